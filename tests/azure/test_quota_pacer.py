"""The Resource Graph quota pacer on a fake clock: steady pace under the quota, waits from the headers."""

from __future__ import annotations

import pytest

from ppm_resources.azure.quota import PACE_SHARE, QuotaPacer, parse_resets_after, parse_retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:03", 3.0),
        ("00:00:02.5", 2.5),
        ("00:01:00", 60.0),
        ("1.00:00:00", 86_400.0),
        ("soon", None),
        (None, None),
    ],
)
def test_resets_after_is_read_in_seconds(text: str | None, seconds: float | None) -> None:
    assert parse_resets_after(text) == seconds


def test_retry_after_in_seconds_only() -> None:
    assert (
        parse_retry_after("2") == 2.0 and parse_retry_after("-1") is None and parse_retry_after("x") is None
    )


def test_the_steady_pace_fits_any_window_of_the_quota() -> None:
    clock = FakeClock()
    pacer = QuotaPacer(15, 5.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(60):
        pacer.acquire()
        sent.append(clock.now)
    for index, start in enumerate(sent):
        assert sum(1 for t in sent[index:] if t < start + 5.0) <= 15
    assert sent[-1] == pytest.approx(59 * 5.0 / (15 * PACE_SHARE), rel=0.01)


def test_a_spent_quota_holds_callers_until_the_window_started_by_this_client_ends() -> None:
    clock = FakeClock()
    pacer = QuotaPacer(15, 5.0, clock=clock, sleep=clock.sleep)
    pacer.observe(
        {"x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"}, sent_at=0.0
    )
    clock.now = 4.8
    pacer.observe({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:01"}, sent_at=4.7)
    assert pacer.acquire() == pytest.approx(0.45)  # to 5.0 + the margin, not the header's whole second


def test_a_quota_spent_by_another_process_waits_for_the_header() -> None:
    clock = FakeClock()
    pacer = QuotaPacer(15, 5.0, clock=clock, sleep=clock.sleep)
    pacer.observe({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:03"}, sent_at=0.0)
    assert pacer.acquire() == pytest.approx(3.25)


def test_a_429_pauses_for_retry_after_else_the_reset_else_a_window() -> None:
    clock = FakeClock()
    pacer = QuotaPacer(15, 5.0, clock=clock, sleep=clock.sleep)
    assert pacer.throttled({"retry-after": "2"}) == 2.0
    assert pacer.throttled({"x-ms-user-quota-resets-after": "00:00:04"}) == 4.0
    assert pacer.throttled({}) == 5.0
