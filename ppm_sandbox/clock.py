"""A controllable wall clock shared by the emulators.

Tests need several edits inside one minute and then "an hour later" without sleeping, so every
emulator reads time from one `SandboxClock` instead of `datetime.now()`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Real UTC time plus an offset, or a frozen instant; thread-safe."""

    def __init__(self, *, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = _utc(frozen_at) if frozen_at else None

    def now(self) -> datetime:
        """The current sandbox time (timezone-aware, UTC)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        """`now()` as POSIX seconds."""
        return self.now().timestamp()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop the clock at `at` (default: the current sandbox time)."""
        instant = _utc(at) if at else self.now()
        with self._lock:
            self._frozen_at = instant
        return instant

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant (keeps the accumulated offset)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None

    def set(self, at: datetime) -> None:
        """Jump to `at`; a frozen clock stays frozen, a running one keeps running from there."""
        instant = _utc(at)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = instant
            else:
                self._offset = instant - datetime.now(UTC)

    def advance(self, seconds: float) -> datetime:
        """Move time forward (or back, when negative) by `seconds`."""
        delta = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta
        return self.now()

    def real(self) -> None:
        """Back to real time: no offset, not frozen."""
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None

    def describe(self) -> dict[str, object]:
        """JSON-able state for the control endpoint."""
        return {
            "now": self.now().isoformat().replace("+00:00", "Z"),
            "frozen": self.frozen,
            "offset_seconds": self._offset.total_seconds(),
        }


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
