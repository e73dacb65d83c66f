"""Resource Graph's per-principal query quota: `quota` queries per `window_s`-second window.

As documented for ARG ("for example, a user can send at most 15 queries within every 5-second window"):
the window opens with a principal's first query and resets when it ends; every query response carries
`x-ms-user-quota-remaining` (int) and `x-ms-user-quota-resets-after` (hh:mm:ss). The query after the
last one allowed gets 429 `RateLimiting`, with a `Retry-After` header when `retry_after` is on (real
responses have been seen with and without it; azure-core only retries a POST 429 that has one).

Time is the `SandboxClock`'s, so a test can freeze it and advance past a window without sleeping.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from ppm_sandbox.clock import SandboxClock


@dataclass(frozen=True, slots=True)
class QuotaVerdict:
    allowed: bool
    remaining: int
    resets_after_s: float
    retry_after: bool

    def headers(self) -> dict[str, str]:
        seconds = max(0, math.ceil(self.resets_after_s - 1e-9))
        hours, rest = divmod(seconds, 3600)
        headers = {
            "x-ms-user-quota-remaining": str(self.remaining),
            "x-ms-user-quota-resets-after": f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}",
        }
        if not self.allowed and self.retry_after:
            headers["Retry-After"] = str(max(1, seconds))
        return headers


class QuotaTracker:
    """Fixed windows per principal (the token's client id); thread-safe."""

    def __init__(
        self, clock: SandboxClock, quota: int = 15, window_s: float = 5.0, retry_after: bool = True
    ) -> None:
        self.clock = clock
        self._initial = (quota, window_s, retry_after)
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # principal -> (window start, queries counted)
        self.quota, self.window_s, self.retry_after = self._initial

    def take(self, principal: str) -> QuotaVerdict:
        """Count one query of `principal` (unless it is over quota: a throttled query does not count)."""
        now = self.clock.timestamp()
        with self._lock:
            start, used = self._windows.get(principal, (now, 0))
            if now >= start + self.window_s or now < start:
                start, used = now, 0
            allowed = used < self.quota
            if allowed:
                used += 1
            self._windows[principal] = (start, used)
            return QuotaVerdict(allowed, self.quota - used, start + self.window_s - now, self.retry_after)

    def configure(
        self, *, quota: int | None = None, window_s: float | None = None, retry_after: bool | None = None
    ) -> None:
        if quota is not None and int(quota) < 1:
            raise ValueError("quota must be >= 1")
        if window_s is not None and float(window_s) <= 0:
            raise ValueError("window_s must be > 0")
        with self._lock:
            if quota is not None:
                self.quota = int(quota)
            if window_s is not None:
                self.window_s = float(window_s)
            if retry_after is not None:
                self.retry_after = bool(retry_after)
            self._windows.clear()

    def clear(self) -> None:
        """Every principal starts a fresh window with its next query."""
        with self._lock:
            self._windows.clear()

    def reset(self) -> None:
        """Start-up settings and no open windows."""
        with self._lock:
            self.quota, self.window_s, self.retry_after = self._initial
            self._windows.clear()

    def describe(self) -> dict[str, Any]:
        now = self.clock.timestamp()
        with self._lock:
            windows = {
                principal: {"used": used, "resets_after_s": round(max(0.0, start + self.window_s - now), 3)}
                for principal, (start, used) in self._windows.items()
                if start <= now < start + self.window_s
            }
            return {
                "quota": self.quota,
                "window_s": self.window_s,
                "retry_after": self.retry_after,
                "windows": windows,
            }
