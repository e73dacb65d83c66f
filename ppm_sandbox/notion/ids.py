"""Deterministic, invertible Notion ids.

A page id must lead back to its (database, index) without a million-entry dictionary, so ids are
built from a keyed 48-bit Feistel permutation of (kind, database, index) placed in the top bits
of a version-4 UUID; the remaining bits are a keyed hash of the block, which lets `decode` reject
ids this workspace never issued. Ids look random, are stable for a seed, and cost ~2 µs each.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import IntEnum

from ppm_sandbox.notion.prng import MASK64, Rng, hash_keys, mix64, salt

_HALF_BITS = 24
_HALF_MASK = (1 << _HALF_BITS) - 1
_INDEX_BITS = 36
_DB_BITS = 8
MAX_INDEX = (1 << _INDEX_BITS) - 1
MAX_DATABASES = 1 << _DB_BITS

# bits 76-79 hold the version nibble, bits 62-63 the variant (as uuid.UUID(version=4) sets them)
_CLEAR_VERSION_VARIANT = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_VERSION_4_VARIANT = (0x4 << 76) | (0x2 << 62)

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class Kind(IntEnum):
    """What an id names; part of the encoded block."""

    PAGE = 1
    DATABASE = 2
    DATA_SOURCE = 3
    USER = 4
    GHOST = 5  # a page that never existed: target of "orphan" defects
    LOOSE_PAGE = 6  # a page outside every database (parent: a page or the workspace)


@dataclass(frozen=True, slots=True)
class Decoded:
    kind: Kind
    database: int
    index: int


def normalize_uuid(value: str) -> str | None:
    """Canonical dashed lower-case form of a UUID given with or without dashes, else None."""
    if not _UUID_RE.match(value):
        return None
    return str(uuid.UUID(value.replace("-", "")))


class IdCodec:
    """Encodes (kind, database, index) as UUIDs for one seed, and back."""

    def __init__(self, seed: int) -> None:
        self._round_keys = [mix64(hash_keys(seed, salt("feistel"), r)) & _HALF_MASK for r in range(4)]
        self._tag_key = hash_keys(seed, salt("id-tag"))

    def encode(self, kind: Kind, database: int, index: int) -> str:
        if not 0 <= index <= MAX_INDEX or not 0 <= database < MAX_DATABASES:
            raise ValueError(f"cannot encode id for database {database}, index {index}")
        block = self._permute((kind << (_INDEX_BITS + _DB_BITS)) | (database << _INDEX_BITS) | index)
        h = f"{self._full_int(block):032x}"  # formatted by hand: uuid.UUID() is the slow part
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def decode(self, value: str) -> Decoded | None:
        """The (kind, database, index) behind an id of this workspace, or None."""
        canonical = normalize_uuid(value)
        if canonical is None:
            return None
        as_int = uuid.UUID(canonical).int
        block = as_int >> 80
        if self._full_int(block) != as_int:
            return None
        plain = self._unpermute(block)
        kind_value = plain >> (_INDEX_BITS + _DB_BITS)
        try:
            kind = Kind(kind_value)
        except ValueError:
            return None
        return Decoded(kind, (plain >> _INDEX_BITS) & (MAX_DATABASES - 1), plain & MAX_INDEX)

    def _full_int(self, block: int) -> int:
        """Block in the top 48 bits, keyed hash below, version-4 / RFC 4122 variant bits set."""
        tag = mix64(block ^ self._tag_key)
        value = (block << 80) | (tag << 16) | ((tag ^ block) & 0xFFFF)
        return (value & _CLEAR_VERSION_VARIANT) | _VERSION_4_VARIANT

    # The round function only needs to scramble (ids must look random, not resist attack), so it is
    # a keyed multiply-xorshift rather than a full hash: ids are minted for every page served.
    def _permute(self, value: int) -> int:
        left, right = value >> _HALF_BITS, value & _HALF_MASK
        for key in self._round_keys:
            mixed = ((right ^ key) * 0x9E3779B1) & 0xFFFFFFFFFFFF
            left, right = right, left ^ ((mixed >> 13) & _HALF_MASK)
        return (left << _HALF_BITS) | right

    def _unpermute(self, value: int) -> int:
        left, right = value >> _HALF_BITS, value & _HALF_MASK
        for key in reversed(self._round_keys):
            mixed = ((left ^ key) * 0x9E3779B1) & 0xFFFFFFFFFFFF
            left, right = right ^ ((mixed >> 13) & _HALF_MASK), left
        return (left << _HALF_BITS) | right


# Notion property ids are short strings, URL-encoded where they contain punctuation
# (e.g. "%3AUPp", "BJXS", "Y%7C%3Ey"); clients must send them back percent-encoded in paths.
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_ENCODED_PUNCT = ("%3A", "%3B", "%3C", "%3E", "%40", "%5B", "%5D", "%5E", "%60", "%7B", "%7C", "%7D")


def property_id(seed: int, scope: str, name: str, taken: set[str]) -> str:
    """A deterministic Notion-style property id, unique within `taken` (which it updates)."""
    rng = Rng(seed, salt(scope), salt(name))
    while True:
        parts = [
            rng.choice(_ENCODED_PUNCT) if rng.chance(0.3) else rng.choice(_ID_CHARS)
            for _ in range(rng.between(3, 4))
        ]
        candidate = "".join(parts)
        if candidate not in taken and candidate != "title":
            taken.add(candidate)
            return candidate


def option_id(seed: int, scope: str, name: str) -> str:
    """Select/status option ids are short random-looking strings too (Notion uses 4-36 chars)."""
    rng = Rng(seed, salt(scope), salt(name), salt("option"))
    return "".join(rng.choice(_ID_CHARS) for _ in range(4)) + ("%3A" if rng.chance(0.2) else "")


def stable_uuid(seed: int, *names: str) -> str:
    """A version-4 UUID from a seed and names, for ids that need not be decodable."""
    high = hash_keys(seed, *(salt(n) for n in names))
    low = mix64(high ^ 0x5BD1E995) & MASK64
    return str(uuid.UUID(int=(high << 64) | low, version=4))
