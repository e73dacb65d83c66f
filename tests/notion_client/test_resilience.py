"""Rate limiter, circuit breaker and retry policy (ppm_resources.resilience), with a hand-driven clock."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from ppm_resources.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    RateLimiter,
    RetriesExhaustedError,
    RetryPolicy,
    TransientError,
    fingerprint,
    retry_async,
    shared_rate_limiter,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_allows_burst_then_paces() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock)
    assert [limiter.reserve() for _ in range(3)] == [0, 0, 0]
    assert [round(limiter.reserve(), 6) for _ in range(3)] == [0.1, 0.2, 0.3]
    clock.now += 10  # idle: the bucket refills up to the burst, not beyond
    assert [round(limiter.reserve(), 6) for _ in range(4)] == [0, 0, 0, 0.1]


def test_limiter_pause_holds_everyone_then_resumes_without_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=5, clock=clock)
    limiter.pause(2.0)
    assert round(limiter.reserve(), 6) == 2.0
    assert round(limiter.reserve(), 6) == 2.1
    assert round(limiter.try_acquire(), 6) == 2.0
    clock.now += 2.0
    assert [round(limiter.try_acquire(), 6) for _ in range(2)] == [0, 0.1]


def test_limiter_does_not_catch_up_after_a_stall() -> None:
    """Slots booked before a stall must not all leave at once when it ends: the server counts arrivals."""
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock)
    booked = [limiter.reserve() for _ in range(20)]  # 20 callers booked over the next 1.7 s
    assert round(booked[-1], 6) == 1.7
    clock.now += 5.0  # ...but the process stalled for 5 s: every booking is in the past
    sends = [limiter.try_acquire() for _ in range(5)]
    assert sends[:3] == [0, 0, 0] and all(wait > 0 for wait in sends[3:])  # burst, then the rate


def test_limiter_paces_threads_and_event_loops_together() -> None:
    limiter = RateLimiter(50, burst=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def in_loop() -> None:
        async def main() -> None:
            for _ in range(10):
                await limiter.acquire()
                with lock:
                    stamps.append(time.monotonic())

        asyncio.run(main())

    # Four threads, each with its own event loop (as Dagster steps and sensors in one process would be).
    threads = [threading.Thread(target=in_loop) for _ in range(4)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert len(stamps) == 40
    assert elapsed >= 39 / 50 * 0.95  # 40 requests at 50/s with no burst: >= 0.78 s whatever the callers


def test_shared_limiter_is_keyed_by_token_hash() -> None:
    a = shared_rate_limiter("test", "secret-a", rate=5, burst=2)
    assert shared_rate_limiter("test", "secret-a", rate=5, burst=2) is a
    assert shared_rate_limiter("test", "secret-b", rate=5, burst=2) is not a
    assert "secret-a" not in fingerprint("secret-a") and len(fingerprint("secret-a")) == 16


def test_breaker_opens_after_threshold_and_half_opens_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("svc", failure_threshold=5, cooldown_s=30, clock=clock)
    for _ in range(4):
        breaker.record_failure("503")
    breaker.check()  # 4 failures: still closed
    breaker.record_failure("503 again")
    with pytest.raises(CircuitOpenError, match=r"open after 5 consecutive failed calls.*503 again"):
        breaker.check()
    clock.now += 31
    assert breaker.state == "half_open"
    breaker.check()
    breaker.record_failure("still down")  # a failed trial re-opens at once
    assert breaker.state == "open"
    clock.now += 31
    breaker.record_success()
    assert breaker.state == "closed"


def test_breaker_success_resets_the_count() -> None:
    breaker = CircuitBreaker("svc", failure_threshold=2, cooldown_s=30)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.check()


def test_policy_honours_retry_after_and_backs_off_exponentially() -> None:
    policy = RetryPolicy(backoff_initial_s=1, backoff_max_s=8)
    assert 5.0 <= policy.delay(1, 5.0) <= 5.5
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        delays = [policy.delay(attempt, None) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


class Flaky(TransientError):
    pass


class Limited(TransientError):
    rate_limited = True
    retry_after = 0.0


def test_retry_async_separate_budgets_and_long_wait_logging(caplog: pytest.LogCaptureFixture) -> None:
    outcomes: list[BaseException | str] = [Limited("429")] * 5 + [Flaky("503")] * 2 + ["ok"]
    policy = RetryPolicy(max_attempts=3, max_rate_limited_attempts=10, backoff_initial_s=0, long_wait_log_s=0)

    async def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    retries: list[float] = []
    with caplog.at_level(logging.INFO):
        result = asyncio.run(
            retry_async(
                call,
                policy=policy,
                what="GET /x",
                logger=logging.getLogger("t"),
                on_retry=lambda e, d: retries.append(d),
            )
        )
    assert result == "ok" and len(retries) == 7
    assert any(r.levelno == logging.WARNING and "GET /x" in r.getMessage() for r in caplog.records)

    async def always() -> str:
        raise Flaky("503")

    with pytest.raises(RetriesExhaustedError, match=r"GET /y failed after 3 attempts: 503"):
        asyncio.run(retry_async(always, policy=policy, what="GET /y", logger=logging.getLogger("t")))
