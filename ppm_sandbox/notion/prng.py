"""Tiny, fast, seedable pseudo-random helpers (splitmix64).

Generated pages are recomputed from (seed, database, index) every time they are served, so the
generator needs a stateless hash and a cheap stream; `random.Random` is too slow to seed per page.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_INV_2_53 = 1.0 / (1 << 53)


def mix64(value: int) -> int:
    """splitmix64 finaliser: a well-mixed 64-bit hash of `value`."""
    z = (value + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def salt(text: str) -> int:
    """Stable 64-bit number for a string (Python's `hash` is randomised per process)."""
    data = text.encode()
    return mix64(zlib.crc32(data) | (zlib.adler32(data) << 32))


def hash_keys(*keys: int) -> int:
    """Combine integer keys into one 64-bit hash."""
    state = 0
    for key in keys:
        state = mix64(state ^ (key & MASK64))
    return state


class Rng:
    """A splitmix64 stream; a few hundred nanoseconds per draw."""

    __slots__ = ("state",)

    def __init__(self, *keys: int) -> None:
        self.state = hash_keys(*keys)

    def next(self) -> int:
        self.state = (self.state + _GOLDEN) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        """Uniform in [0, 1)."""
        return (self.next() >> 11) * _INV_2_53

    def below(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return self.next() % n

    def between(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + self.next() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def choice(self, items: Sequence[T]) -> T:
        return items[self.next() % len(items)]

    def weighted(self, items: Sequence[T], weights: Sequence[float]) -> T:
        point = self.random() * sum(weights)
        for item, weight in zip(items, weights, strict=True):
            point -= weight
            if point < 0:
                return item
        return items[-1]

    def sample(self, items: Sequence[T], k: int) -> list[T]:
        """`k` distinct items, in the order of `items`."""
        chosen = sorted({self.next() % len(items) for _ in range(k * 2)})[:k]
        return [items[i] for i in chosen]
