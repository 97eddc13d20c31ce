"""The current time, injected: whatever decides validity (a coupon's window, open now, a quote's or an
order's expiry, staleness, a cached credential's age, a breaker's cool-down) asks a Clock, so a test can
put it at any instant and move it on instead of waiting or depending on today's date.

Waits that are about elapsed real time (poll loops, timeouts, backoff sleeps) keep using `time` directly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, an aware datetime in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for ages and cool-downs (only differences mean
        anything)."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock for tests, shared by the servers of a test and the test itself (thread-safe).

    It reads as the machine's clock until `set`, which stops it (`now` and `monotonic`) at an instant;
    `advance` moves it forward, stopped or not; `reset` makes `now` the machine's clock again, `monotonic`
    running on from where it stood (it never goes back).
    """

    def __init__(self, at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._stopped_at: datetime | None = None
        self._stopped_monotonic: float | None = None
        self._offset = timedelta(0)
        self._monotonic_offset = 0.0
        if at is not None:
            self.set(at)

    def now(self) -> datetime:
        with self._lock:
            if self._stopped_at is not None:
                return self._stopped_at
            return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        with self._lock:
            if self._stopped_monotonic is not None:
                return self._stopped_monotonic
            return time.monotonic() + self._monotonic_offset

    def set(self, at: datetime) -> None:
        """Stop the clock at `at` (aware, any offset); `monotonic` stops where it is."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"{at!r} has no UTC offset")
        with self._lock:
            if self._stopped_monotonic is None:
                self._stopped_monotonic = time.monotonic() + self._monotonic_offset
            self._stopped_at = at.astimezone(UTC)

    def advance(self, by: timedelta) -> None:
        if by < timedelta(0):
            raise ValueError("a clock only moves forward")
        with self._lock:
            if self._stopped_at is not None and self._stopped_monotonic is not None:
                self._stopped_at += by
                self._stopped_monotonic += by.total_seconds()
            else:
                self._offset += by
                self._monotonic_offset += by.total_seconds()

    def reset(self) -> None:
        with self._lock:
            if self._stopped_monotonic is not None:
                self._monotonic_offset = self._stopped_monotonic - time.monotonic()
            self._stopped_at = None
            self._stopped_monotonic = None
            self._offset = timedelta(0)
