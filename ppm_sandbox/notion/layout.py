"""How generated pages are laid out: in time, across parents, and which ones carry defects.

Everything here is arithmetic on the page index, so a million-page database costs nothing to hold:
- `Timeline`: created/last-edited minutes are monotonic in the index, which turns any timestamp
  filter into an index range found by binary search (O(log n) instead of a scan).
- `Assignment`: a weighted many-to-one mapping of child pages onto parents through a modular
  permutation, invertible per item, so "which budget lines belong to project 7" needs no index.
- `DefectPlan`: exactly one page in `period` carries a defect, classes dealt in rotation.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence

MINUTES_PER_DAY = 1440


class Timeline:
    """Created/edited minutes of generated pages; pages come in pairs sharing a minute.

    Edits spread over the 365 days before the anchor, creations over days -400..-40, so every
    page's last edit is at or after its creation and both grow with the index.
    """

    GROUP = 2

    def __init__(self, count: int, anchor_minute: int) -> None:
        self.count = count
        self.groups = max(1, math.ceil(count / self.GROUP))
        self.edited_start = anchor_minute - 365 * MINUTES_PER_DAY
        self.edited_span = 365 * MINUTES_PER_DAY - 1
        self.created_start = anchor_minute - 400 * MINUTES_PER_DAY
        self.created_span = 360 * MINUTES_PER_DAY - 7  # not a whole day: creation minutes vary

    def edited(self, index: int) -> int:
        return self.edited_start + (index // self.GROUP) * self.edited_span // self.groups

    def created(self, index: int) -> int:
        return self.created_start + (index // self.GROUP) * self.created_span // self.groups

    def first_edited_at_or_after(self, minute: int) -> int:
        """Smallest index whose edit minute is >= `minute` (`count` if none)."""
        return self._first_at_or_after(self.edited, minute)

    def first_created_at_or_after(self, minute: int) -> int:
        return self._first_at_or_after(self.created, minute)

    def _first_at_or_after(self, minute_of: Callable[[int], int], minute: int) -> int:
        low, high = 0, self.count
        while low < high:
            mid = (low + high) // 2
            if minute_of(mid) < minute:
                low = mid + 1
            else:
                high = mid
        return low


class Permutation:
    """i -> (a*i + c) mod n, a bijection of range(n) with an O(1) inverse."""

    def __init__(self, n: int, key: int) -> None:
        self.n = max(n, 1)
        a = (key | 1) % self.n or 1
        while math.gcd(a, self.n) != 1:
            a += 1
        self.a = a
        self.c = (key >> 17) % self.n
        self.a_inv = pow(a, -1, self.n) if self.n > 1 else 0

    def __call__(self, index: int) -> int:
        return (index * self.a + self.c) % self.n

    def inverse(self, position: int) -> int:
        return ((position - self.c) * self.a_inv) % self.n


class Assignment:
    """Deterministic weighted mapping of `sources` child indices onto len(weights) parents."""

    def __init__(self, sources: int, weights: Sequence[float], key: int) -> None:
        if not weights or sum(weights) <= 0:
            raise ValueError("an assignment needs at least one parent with a positive weight")
        self.sources_count = sources
        self.permutation = Permutation(sources, key)
        total = float(sum(weights))
        bounds = [0]
        cumulative = 0.0
        for weight in weights:
            cumulative += weight
            bounds.append(round(sources * cumulative / total))
        bounds[-1] = sources
        self.bounds = bounds

    def target(self, index: int) -> int:
        """The parent of child `index`."""
        return bisect_right(self.bounds, self.permutation(index)) - 1

    def sources(self, target: int) -> list[int]:
        """Children of parent `target`, ascending (creation order)."""
        inverse = self.permutation.inverse
        return sorted(inverse(k) for k in range(self.bounds[target], self.bounds[target + 1]))

    def size(self, target: int) -> int:
        return self.bounds[target + 1] - self.bounds[target]


class DefectPlan:
    """Which generated pages carry a deliberate defect, and of which class."""

    def __init__(self, count: int, period: int, classes: Sequence[str], key: int) -> None:
        self.count = count
        self.period = max(period, 1)
        self.classes = tuple(classes)
        self.permutation = Permutation(count, key)

    def kind(self, index: int) -> str | None:
        if not self.classes or self.count == 0:
            return None
        position = self.permutation(index)
        if position % self.period:
            return None
        return self.classes[(position // self.period) % len(self.classes)]

    def __iter__(self) -> Iterator[tuple[int, str]]:
        """(index, class) of every defective page, without scanning the database."""
        if not self.classes:
            return
        for position in range(0, self.count, self.period):
            yield (
                self.permutation.inverse(position),
                self.classes[(position // self.period) % len(self.classes)],
            )
