"""A circuit breaker for the order core, one per worker process.

Closed: calls go through; `threshold` consecutive failed attempts open it. Open: calls fail fast with
BreakerOpen until `cooldown` seconds have passed. Half-open: one probe call goes through (others still
fail fast); its success closes the breaker, its failure opens it for another cool-down. The breaker lives
on one event loop (no locks); `clock` is injectable for tests (monotonic seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOpen(Exception):
    """The order core failed repeatedly: calls are refused until the cool-down ends."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"the order core failed repeatedly; not calling it for {retry_after:.1f} s")
        self.retry_after = retry_after


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        if threshold < 1 or cooldown <= 0:
            raise ValueError("breaker threshold must be >= 1 and cool-down > 0")
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def retry_after(self) -> float:
        """Seconds until a probe may go through (0 when closed)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def before_call(self) -> None:
        """Raise BreakerOpen unless this call may go through (in half-open state: the single probe)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return
        raise BreakerOpen(max(self.retry_after(), 1.0))

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._probing = False
