"""Text from the lakehouse (Notion titles, run errors, commit metadata) made safe to print on a terminal.

Page content can hold escape sequences (`\\x1b[2J` clears the screen, OSC 52 writes the clipboard), carriage
returns that overwrite what was printed, and bidirectional overrides (`\\u202e`) that make text read differently
from what it is. `printable` shows those as visible escapes and leaves every other character alone.
"""

from __future__ import annotations

import re
import unicodedata

# Control (C0, DEL, C1), format (bidi controls, zero-width spaces, tags), lone surrogates, line and paragraph
# separators.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Zero-width (non-)joiners are format characters that text needs: emoji sequences (👩‍💻) and the shaping of
# Persian and Indic scripts.
_KEPT = frozenset({"\u200c", "\u200d"})
# Tag characters are invisible unless they spell a subdivision flag (🏴 + tags + cancel tag, e.g. England).
_TAG_FLAG = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_all(text: str) -> str:
    return "".join(
        _escape(char) if char not in _KEPT and unicodedata.category(char) in _ESCAPED_CATEGORIES else char
        for char in text
    )


def printable(text: str) -> str:
    """`text` with control and invisible formatting characters as escapes (`\\x1b`, `\\r`, `\\u202e`)."""
    if text.isprintable():  # nothing to escape: the common case, and cheap
        return text
    # The split keeps the flags at odd positions.
    return "".join(
        piece if index % 2 else _escape_all(piece) for index, piece in enumerate(_TAG_FLAG.split(text))
    )


def printable_lines(text: str) -> str:
    """`printable` for a message of several lines: its line breaks stay line breaks."""
    return "\n".join(printable(line) for line in text.split("\n"))
