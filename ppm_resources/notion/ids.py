"""Notion id validation: ids go into URL paths, so only well-formed UUIDs are accepted."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


class InvalidNotionIdError(ValueError):
    """Text that is not a Notion id; `reason` is the message without the offending value."""

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"{value!r} {reason}")
        self.reason = reason


def normalize_id(value: str, what: str = "") -> str:
    """A Notion id as a dashed lower-case UUID; InvalidNotionIdError otherwise.

    Accepts a UUID with or without dashes, or a Notion URL ending in one (``.../Risks-1a2b...?v=9``), since
    people copy ids from the browser. The one normaliser for settings, the client and the write-back.
    """
    text = str(value).strip()
    if "/" in text:  # a URL: the id is the last dash-separated part of the last path segment
        text = text.rsplit("/", 1)[-1].split("?", 1)[0].rsplit("-", 1)[-1]
    hex_digits = text.replace("-", "")
    if not _HEX32.match(hex_digits):
        kind = f"Notion {what} id" if what else "Notion id"
        raise InvalidNotionIdError(
            str(value),
            f"is not a {kind}: expected a UUID of 32 hexadecimal digits, with or without dashes "
            "(e.g. 1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6 or 1a2b3c4d-5e6f-47a8-b9c0-d1e2f3a4b5c6; copy it from the "
            "database or page URL)",
        )
    h = hex_digits.lower()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def id_key(page_id: str) -> bytes | str:
    """A compact set key for a page id (16 bytes instead of a 36-character str: 1M ids stay small)."""
    try:
        return bytes.fromhex(page_id.replace("-", ""))
    except ValueError:
        return page_id


def property_id_path(property_id: str) -> str:
    """A property id as a URL path segment (Notion sends them percent-encoded, e.g. ``%3AUPp``)."""
    return quote(unquote(property_id), safe="")
