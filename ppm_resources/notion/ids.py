"""Notion id validation: ids go into URL paths, so only well-formed UUIDs are accepted."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def normalize_id(value: str, what: str = "object") -> str:
    """A Notion id (UUID with or without dashes) as a dashed lower-case UUID; ValueError otherwise."""
    hex_digits = str(value).strip().replace("-", "")
    if not _HEX32.match(hex_digits):
        raise ValueError(
            f"{value!r} is not a Notion {what} id: expected a UUID of 32 hexadecimal digits, "
            "with or without dashes (copy it from the database/page URL)"
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
