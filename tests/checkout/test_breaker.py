"""The circuit breaker's states on an injected clock (pure: no I/O, no sleeping)."""

from __future__ import annotations

import pytest

from checkout.breaker import BreakerOpen, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(breaker: CircuitBreaker) -> BreakerState:
    return breaker.state  # a call, so mypy does not narrow the property between checks


def test_opens_after_threshold_consecutive_failures_and_fails_fast() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.before_call()
    breaker.record_success()  # a success in between resets the count
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    clock.now += 4
    with pytest.raises(BreakerOpen) as refused:
        breaker.before_call()
    assert refused.value.retry_after == pytest.approx(6.0)


def test_half_open_lets_one_probe_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 5.0, clock)
    breaker.record_failure()
    clock.now += 5
    assert state(breaker) is BreakerState.HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(BreakerOpen):
        breaker.before_call()  # everyone else still fails fast
    breaker.record_failure()  # the probe failed: open for another cool-down
    assert state(breaker) is BreakerState.OPEN
    clock.now += 5
    breaker.before_call()
    breaker.record_success()
    assert state(breaker) is BreakerState.CLOSED
    breaker.before_call()
    breaker.before_call()


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(0, 1.0)
