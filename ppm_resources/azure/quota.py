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
_NEGLIGIBLE_S = 1e-6  # float rounding in the token bucket, not a wait
#: After the estimated end of a quota window, the time a request needs to reach the server.
WINDOW_MARGIN_S = 0.25
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
        self._window_started: float | None = None
        self.waited_s = 0.0

    def configure(self, requests: int, window_s: float) -> None:
        if (requests, window_s) != (self.requests, self.window_s):
            self.requests, self.window_s = requests, window_s
            self._limiter.configure(requests * PACE_SHARE / window_s, 1)

    def now(self) -> float:
        return self._clock()

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        delay = self._limiter.reserve()  # book a slot in the steady pace (callers leave in booking order)
        while True:
            with self._lock:
                blocked = self._blocked_until - self._clock()
            pause = max(blocked, delay)  # a block and a booked slot overlap: wait for the later one
            if pause > _NEGLIGIBLE_S:
                self._sleep(pause)
                waited += pause
            delay = self._limiter.try_acquire()
            if delay > _NEGLIGIBLE_S:
                continue
            with self._lock:
                # Another caller may have seen a 429 while this one slept: its block holds this caller too.
                if self._blocked_until - self._clock() <= _NEGLIGIBLE_S:
                    break
            delay = 0.0
        with self._lock:
            self.waited_s += waited
        return waited

    def observe(self, headers: Mapping[str, str], sent_at: float | None = None) -> None:
        """Read the quota headers of a response to a request sent at `sent_at` (this pacer's clock): with none
        left, hold every caller until the window resets.

        `x-ms-user-quota-resets-after` has whole seconds, rounded up: waiting for it loses up to a second of
        every 5-second window (a sixth of the throughput). So the pacer also remembers when the window began,
        as the send time of the request that left `requests - 1`, and waits only until that start plus the
        window (and a margin for the request's way to the server), when that is sooner.
        """
        remaining_text = headers.get("x-ms-user-quota-remaining")
        resets_after = parse_resets_after(headers.get("x-ms-user-quota-resets-after"))
        try:
            remaining = int(remaining_text) if remaining_text is not None else None
        except ValueError:
            remaining = None
        if remaining is None:
            return
        with self._lock:
            if sent_at is not None and remaining == self.requests - 1:
                self._window_started = sent_at
            window_started = self._window_started
        if remaining > 0:
            return
        wait = resets_after if resets_after is not None else self.window_s
        if window_started is not None:
            estimate = window_started + self.window_s + WINDOW_MARGIN_S - self._clock()
            if 0 <= estimate < wait:
                wait = estimate
        self._block(wait, margin=0.0 if window_started is not None else 0.25)

    def throttled(self, headers: Mapping[str, str]) -> float:
        """A 429: hold every caller for the server's hint; returns the wait chosen."""
        wait = parse_retry_after(headers.get("retry-after"))
        if wait is None:
            wait = parse_resets_after(headers.get("x-ms-user-quota-resets-after"))
        if wait is None or wait <= 0:
            wait = self.window_s
        self._block(wait)
        return wait

    def _block(self, seconds: float, margin: float = 0.25) -> None:
        with self._lock:
            until = self._clock() + seconds + margin
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
