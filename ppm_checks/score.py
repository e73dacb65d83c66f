"""The DQ score: the share of live silver rows that break no row-level rule (runbook P3 below 95 %)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

SCORE_RULE = "dq_score_meets_threshold"


@dataclass(frozen=True)
class DqScore:
    """Live rows and the live rows failing at least one row-level rule, per silver Notion table."""

    by_table: Mapping[str, tuple[int, int]]  # table -> (live rows, failing rows)

    @property
    def live_rows(self) -> int:
        return sum(live for live, _ in self.by_table.values())

    @property
    def failing_rows(self) -> int:
        return sum(failing for _, failing in self.by_table.values())

    @property
    def passing_rows(self) -> int:
        return self.live_rows - self.failing_rows

    @property
    def exact(self) -> Fraction:
        """100 * passing / live; 100 when there are no live rows (nothing is wrong)."""
        return Fraction(100 * self.passing_rows, self.live_rows) if self.live_rows else Fraction(100)

    @property
    def pct(self) -> float:
        """The score in percent, rounded to 2 decimals (what the UI plots)."""
        return round(float(self.exact), 2)

    def meets(self, min_pct: float) -> bool:
        """Exact comparison (no rounding): 94.999 % does not meet 95 %."""
        return self.exact >= Fraction(str(min_pct))
