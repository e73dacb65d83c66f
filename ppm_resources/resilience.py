"""Resilience primitives shared by the HTTP clients (Notion now; Azure, UniFi, NinjaOne later).

- :class:`RateLimiter`: a token bucket safe across threads *and* event loops, shared per credential through
  :func:`shared_rate_limiter` (keyed by a hash of the secret, never the secret).
- :class:`RetryPolicy` + :func:`retry_async`: exponential backoff with jitter that honours ``Retry-After``,
  with a separate (larger) budget for rate-limit answers.
- :class:`CircuitBreaker`: fails fast after N consecutive failed calls until a cool-down passes.

Clients signal "worth retrying" by raising a :class:`TransientError` subclass.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import SecretStr

T = TypeVar("T")
Clock = Callable[[], float]


def fingerprint(secret: str | SecretStr) -> str:
    """A short non-reversible id of a secret, usable as a registry key or in debug logs."""
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------------------------- rate limiting


class RateLimiter:
    """Token bucket: ``rate`` requests/s on average, at most ``burst`` at once, in real send time.

    Two steps, both under a ``threading.Lock`` held for microseconds (never across an await):

    1. ``reserve()`` books the caller's slot on a schedule (GCRA), so waiters sleep until their turn in
       booking order instead of polling in a herd.
    2. On waking, ``try_acquire()`` takes a token from a bucket refilled in *actual* time. When the process
       stalled (GC, CPU contention, a consumer busy flattening), several booked slots are already past:
       without this step they would all leave at once and the server, which counts arrivals, would answer
       429. With it, at most ``burst`` leave together and the rest follow at ``rate``.

    Sleeping happens outside the lock (``asyncio.sleep`` on the caller's own loop, ``time.sleep`` in
    threads), so one limiter paces every thread and event loop of the process. A booking abandoned by
    cancellation wastes one slot, which only makes the pace slightly more conservative.
    """

    def __init__(self, rate: float, burst: int = 1, *, clock: Clock = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        now = clock()
        self._tat = now  # GCRA: theoretical arrival time of the next booking when the bucket is empty
        self._updated = now  # actual-time bucket: last refill (may lie in the future during a pause)
        self.configure(rate, burst)
        self._tokens = float(self.burst)

    def configure(self, rate: float, burst: int) -> None:
        """Change the pace (the latest configuration of a shared limiter wins)."""
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate limit must be > 0 req/s with burst >= 1 (got rate={rate}, burst={burst})")
        with self._lock:
            self.rate = float(rate)
            self.burst = int(burst)
            self._interval = 1.0 / self.rate
            self._tolerance = (self.burst - 1) * self._interval

    def reserve(self) -> float:
        """Book the next slot; returns how long to sleep before trying to send (0 = now)."""
        with self._lock:
            now = self._clock()
            send_at = max(now, self._tat - self._tolerance)
            self._tat = max(self._tat, send_at) + self._interval
            return send_at - now

    def try_acquire(self) -> float:
        """Take a token if the actual-time bucket has one (returns 0), else return the seconds to wait."""
        with self._lock:
            now = self._clock()
            if now < self._updated:  # paused
                return self._updated - now
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) * self._interval

    async def acquire(self) -> float:
        """Wait (asynchronously) until this caller may send; returns the time waited."""
        waited = delay = self.reserve()
        while True:
            if delay > 0:
                await asyncio.sleep(delay)
            delay = self.try_acquire()
            if delay <= 0:
                return waited
            waited += delay

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (a 429's Retry-After), then resume at the steady rate."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._tat = max(self._tat, until + self._tolerance)
            if until > self._updated:
                self._updated = until
                self._tokens = 1.0  # one request may go when the pause ends, then the steady rate


_registry_lock = threading.Lock()
_limiters: dict[tuple[str, str], RateLimiter] = {}
_breakers: dict[tuple[str, str], CircuitBreaker] = {}


def shared_rate_limiter(namespace: str, secret: str | SecretStr, *, rate: float, burst: int) -> RateLimiter:
    """The process-wide limiter of one credential (keyed by ``namespace`` and a hash of ``secret``)."""
    key = (namespace, fingerprint(secret))
    with _registry_lock:
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = RateLimiter(rate, burst)
            return limiter
    if (limiter.rate, limiter.burst) != (rate, burst):
        limiter.configure(rate, burst)
    return limiter


def shared_circuit_breaker(
    namespace: str, secret: str | SecretStr, *, name: str, failure_threshold: int, cooldown_s: float
) -> CircuitBreaker:
    """The process-wide circuit breaker of one credential: when the service is down, every caller knows."""
    key = (namespace, fingerprint(secret))
    with _registry_lock:
        breaker = _breakers.get(key)
        if breaker is None:
            breaker = _breakers[key] = CircuitBreaker(name, failure_threshold=failure_threshold)
        breaker.failure_threshold, breaker.cooldown_s = failure_threshold, cooldown_s  # latest wins
        return breaker


# ------------------------------------------------------------------------------------------- circuit breaker


class CircuitOpenError(RuntimeError):
    """Raised without calling the service while its circuit breaker is open."""

    def __init__(self, name: str, failures: int, retry_in_s: float, last_error: str | None) -> None:
        self.retry_in_s = retry_in_s
        detail = f" (last error: {last_error})" if last_error else ""
        super().__init__(
            f"{name} circuit breaker is open after {failures} consecutive failed calls{detail}; failing fast "
            f"for another {retry_in_s:.0f} s. Check the service status, then re-run."
        )


class CircuitBreaker:
    """Closed -> open after ``failure_threshold`` consecutive failures -> half-open after ``cooldown_s``.

    Half-open lets calls through; the first success closes the circuit, the first failure re-opens it.
    Count failures of *calls* (after their retries), not of attempts: one flaky response is not an outage.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._last_error: str | None = None

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        return "open" if self._clock() - self._opened_at < self.cooldown_s else "half_open"

    def check(self) -> None:
        """Raise :class:`CircuitOpenError` while open; return when the call may proceed."""
        with self._lock:
            if self._state_locked() == "open":
                assert self._opened_at is not None
                retry_in = self.cooldown_s - (self._clock() - self._opened_at)
                raise CircuitOpenError(self.name, self._failures, retry_in, self._last_error)

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._last_error = None

    def record_failure(self, error: str | None = None) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = error
            if self._opened_at is not None or self._failures >= self.failure_threshold:
                # (re-)open: a failure while half-open restarts the cool-down
                self._opened_at = self._clock()


# -------------------------------------------------------------------------------------------------- retries


class TransientError(Exception):
    """An error worth retrying; ``retry_after``: the server's hint in seconds; ``rate_limited``: a 429."""

    retry_after: float | None = None
    rate_limited: bool = False


class WaitTooLongError(RuntimeError):
    """Not retried: the server asked for a longer wait than allowed, or the wait would pass the deadline."""


class RetriesExhaustedError(RuntimeError):
    """A call still failed after its retry budget; ``last_error`` is the final transient error."""

    def __init__(self, what: str, attempts: int, last_error: TransientError) -> None:
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"{what} failed after {attempts} attempts: {last_error}")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying. Rate-limit answers get their own budget: waiting them out always works, within
    bounds: a single wait is at most ``max_wait_s`` (a longer ``Retry-After`` fails the call at once) and no
    wait may end after ``deadline`` (a ``clock()`` time). The names say which settings set them, for messages.
    """

    max_attempts: int = 6
    max_rate_limited_attempts: int = 30
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    long_wait_log_s: float = 10.0
    max_wait_s: float | None = None
    deadline: float | None = None
    max_wait_name: str = "max_wait_s"
    deadline_name: str = "deadline"
    clock: Clock = time.monotonic

    def delay(self, error_attempts: int, retry_after: float | None) -> float:
        """Seconds to wait before the next attempt.

        With a server hint: the hint plus up to 10 % jitter (so a crowd of callers does not return in step).
        Without: "equal jitter" exponential backoff, between half and all of ``initial * 2**(n-1)`` (capped).
        """
        if retry_after is not None and retry_after >= 0:
            return retry_after + random.uniform(0, min(1.0, 0.1 * retry_after))
        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, error_attempts - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class _Attempts:
    """The failures of one call so far: which budget each one spends, and how long to wait next."""

    def __init__(self, policy: RetryPolicy, what: str, logger: logging.Logger) -> None:
        self.policy, self.what, self.logger = policy, what, logger
        self.errors = 0
        self.rate_limited = 0

    def next_delay(self, exc: TransientError) -> float:
        """Count the failure; return the wait, or raise RetriesExhaustedError when the budget is spent."""
        if exc.rate_limited:
            self.rate_limited += 1
            exhausted = self.rate_limited >= self.policy.max_rate_limited_attempts
        else:
            self.errors += 1
            exhausted = self.errors >= self.policy.max_attempts
        if exhausted:
            raise RetriesExhaustedError(self.what, self.errors + self.rate_limited, exc) from exc
        policy = self.policy
        if (
            exc.retry_after is not None
            and policy.max_wait_s is not None
            and exc.retry_after > policy.max_wait_s
        ):
            raise WaitTooLongError(
                f"{self.what}: the server asked to wait {exc.retry_after:g} s before retrying (Retry-After), more "
                f"than the {policy.max_wait_s:g} s allowed by {policy.max_wait_name}: not waiting. Retry later, "
                f"or raise {policy.max_wait_name}."
            ) from exc
        delay = policy.delay(self.errors, exc.retry_after)
        if policy.deadline is not None and policy.clock() + delay > policy.deadline:
            raise WaitTooLongError(
                f"{self.what}: {exc}; retrying in {delay:.0f} s would pass the deadline set by "
                f"{policy.deadline_name}: giving up."
            ) from exc
        level = logging.WARNING if delay >= self.policy.long_wait_log_s else logging.INFO
        self.logger.log(
            level,
            "%s: %s; retrying in %.1f s (attempt %d)",
            self.what,
            exc,
            delay,
            self.errors + self.rate_limited,
        )
        return delay


async def retry_async(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    what: str,
    logger: logging.Logger,
    on_retry: Callable[[TransientError, float], None] | None = None,
) -> T:
    """Await ``call()`` until it returns, retrying :class:`TransientError` per ``policy``."""
    attempts = _Attempts(policy, what, logger)
    while True:
        try:
            return await call()
        except TransientError as exc:
            delay = attempts.next_delay(exc)
            if on_retry is not None:
                on_retry(exc, delay)
            await asyncio.sleep(delay)
