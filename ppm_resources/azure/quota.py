"""Pacing Resource Graph requests to the per-principal quota (15 requests per 5-second window by default).

Resource Graph answers every request with `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after`
(`hh:mm:ss`); once the quota is spent it answers 429 `RateLimiting`, sometimes without `Retry-After`, and the SDK
does not retry a POST 429 without that header. So the client paces itself instead of bouncing off the limit:

- a steady pace a little under the quota (GCRA token bucket, burst 1), so that any 5-second window, fixed or
  sliding, holds at most the quota: this alone keeps a single client at ~97 % of the ceiling without a 429;
- the headers as the authority: when the server says the quota is spent (another process of the same principal
  spent it), every caller waits until the window resets;
- after a 429 anyway, every caller pauses for the server's hint (Retry-After, else the reset time, else a
  window).

One pacer per principal per process (`shared_quota_pacer`), shared by every run and thread of the process.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping

from ppm_resources.resilience import RateLimiter

#: Share of the quota the steady pace uses: the margin absorbs clock jitter between client and server.
PACE_SHARE = 0.97
_RESETS_AFTER = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$")


def parse_resets_after(value: str | None) -> float | None:
    """Seconds in an `x-ms-user-quota-resets-after` value (`00:00:03`, `00:00:02.5`, `1.00:00:00`); None if
    absent or unreadable."""
    if not value:
        return None
    match = _RESETS_AFTER.match(value.strip())
    if not match:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86_400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds in a `Retry-After` header given in seconds (Azure does not send HTTP dates here)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class QuotaPacer:
    """Paces one principal's Resource Graph requests (thread-safe; see the module docstring)."""

    def __init__(
        self,
        requests: int = 15,
        window_s: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requests = requests
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._limiter = RateLimiter(requests * PACE_SHARE / window_s, 1, clock=clock)
        self._lock = threading.Lock()
        self._blocked_until = 0.0
        self.waited_s = 0.0

    def configure(self, requests: int, window_s: float) -> None:
        if (requests, window_s) != (self.requests, self.window_s):
            self.requests, self.window_s = requests, window_s
            self._limiter.configure(requests * PACE_SHARE / window_s, 1)

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                blocked = self._blocked_until - self._clock()
            if blocked > 0:
                self._sleep(blocked)
                waited += blocked
                continue
            delay = self._limiter.try_acquire()
            if delay <= 0:
                break
            self._sleep(delay)
            waited += delay
        with self._lock:
            self.waited_s += waited
        return waited

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the quota headers of a response: with none left, hold every caller until the window resets."""
        remaining = headers.get("x-ms-user-quota-remaining")
        resets_after = parse_resets_after(headers.get("x-ms-user-quota-resets-after"))
        try:
            spent = remaining is not None and int(remaining) <= 0
        except ValueError:
            spent = False
        if spent:
            self._block(resets_after if resets_after is not None else self.window_s)

    def throttled(self, headers: Mapping[str, str]) -> float:
        """A 429: hold every caller for the server's hint; returns the wait chosen."""
        wait = parse_retry_after(headers.get("retry-after"))
        if wait is None:
            wait = parse_resets_after(headers.get("x-ms-user-quota-resets-after"))
        if wait is None or wait <= 0:
            wait = self.window_s
        self._block(wait)
        return wait

    def _block(self, seconds: float) -> None:
        with self._lock:
            # `hh:mm:ss` has whole seconds: the real reset may be up to a second later than the header says.
            until = self._clock() + seconds + 0.25
            self._blocked_until = max(self._blocked_until, until)


_pacers_lock = threading.Lock()
_pacers: dict[str, QuotaPacer] = {}


def shared_quota_pacer(principal: str, *, requests: int, window_s: float) -> QuotaPacer:
    """The process-wide pacer of one principal (`tenant/client id`, not a secret)."""
    with _pacers_lock:
        pacer = _pacers.get(principal)
        if pacer is None:
            pacer = _pacers[principal] = QuotaPacer(requests, window_s)
        else:
            pacer.configure(requests, window_s)
        return pacer
