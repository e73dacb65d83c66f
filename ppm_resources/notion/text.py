"""Text written to Notion: sanitised and cut to the API's limits (pure functions).

Notion rejects a write whose rich text object holds more than 2,000 characters, or whose array holds more than
100 objects (400 ``validation_error``). Text we send comes from data (a DQ rule's message, an Advisor
recommendation, a title typed in the Launchpad), so it may hold control characters, lone surrogates or be
longer than that: it is cleaned and split here, so no write fails on its text. Lengths are counted as
Notion (JavaScript) counts them, in UTF-16 code units: an emoji counts two.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

#: Characters per text object (`rich_text[].text.content`) and objects per rich text array.
MAX_TEXT_CHARS = 2000
MAX_TEXT_OBJECTS = 100
#: What a cut text ends with, so a reader sees it was shortened.
ELLIPSIS = "…"

# C0/C1 control characters except tab and newline, and the Unicode "non-characters" Notion stores as U+FFFD.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: object, *, single_line: bool = False) -> str:
    """``value`` as text Notion stores as sent: NFC, no control characters or lone surrogates.

    ``single_line`` (titles, ids) also folds newlines and tabs into single spaces and trims the ends.
    """
    text = _SURROGATE.sub("\ufffd", "" if value is None else str(value))
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    if single_line:
        text = " ".join(text.split())
    return text


def js_length(text: str) -> int:
    """Length as Notion counts it: UTF-16 code units (a character beyond U+FFFF counts two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _chunks(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units, never splitting a character."""
    pieces: list[str] = []
    start = units = 0
    for i, ch in enumerate(text):
        width = 2 if ord(ch) > 0xFFFF else 1
        if units + width > limit:
            pieces.append(text[start:i])
            start, units = i, 0
        units += width
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-16 units, ending in an ellipsis when it was longer."""
    if js_length(text) <= limit:
        return text
    return _chunks(text, limit - len(ELLIPSIS))[0] + ELLIPSIS


def rich_text(
    value: object, *, single_line: bool = False, max_chars: int | None = None
) -> list[dict[str, Any]]:
    """A rich text array for ``value``: cleaned, in 2,000-character text objects, at most 100 of them.

    ``max_chars`` caps the whole text first (default: what 100 objects hold). An empty value is ``[]``, which
    Notion stores as an empty property.
    """
    text = clean_text(value, single_line=single_line)
    text = cut(text, min(max_chars or MAX_TEXT_CHARS * MAX_TEXT_OBJECTS, MAX_TEXT_CHARS * MAX_TEXT_OBJECTS))
    return [{"type": "text", "text": {"content": piece}} for piece in _chunks(text, MAX_TEXT_CHARS)]


def plain_text(items: object) -> str:
    """The text of a rich text array as Notion returns it (``plain_text`` of each item, else its content)."""
    if not isinstance(items, list):
        return ""
    parts = []
    for item in items:
        if isinstance(item, dict):
            content = item.get("plain_text")
            if content is None:
                content = (item.get("text") or {}).get("content", "")
            parts.append(str(content))
    return "".join(parts)
