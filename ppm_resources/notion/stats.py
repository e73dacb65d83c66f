"""Request counters of one client, reported as Dagster run metadata."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class NotionStats:
    """What a client did. Mutated only from its event loop, so plain ints are enough."""

    requests: int = 0
    rate_limited: int = 0  # 429 answers
    retries: int = 0
    throttle_wait_s: float = 0.0  # time spent waiting for the shared rate limiter
    pages: int = 0
    cursor_recoveries: int = 0
    slices: int = 0
    truncated_properties_completed: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # by kind: "503", "timeout", "connection"...

    def as_metadata(self) -> dict[str, int | float]:
        """Flat numbers for ``MaterializeResult(metadata=...)`` (no ids, no secrets)."""
        meta: dict[str, int | float] = {
            "notion_requests": self.requests,
            "notion_429s": self.rate_limited,
            "notion_retries": self.retries,
            "notion_throttle_wait_s": round(self.throttle_wait_s, 3),
            "notion_pages": self.pages,
            "notion_cursor_recoveries": self.cursor_recoveries,
            "notion_slices": self.slices,
            "notion_truncated_properties_completed": self.truncated_properties_completed,
        }
        for kind, count in sorted(self.errors.items()):
            meta[f"notion_errors_{kind}"] = count
        return meta
