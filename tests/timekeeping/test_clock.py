"""The clocks: the system clock is the machine's; the manual clock stops, moves on and never goes back."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from timekeeping.clock import ManualClock, SystemClock

AT = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8)))  # 02:00 UTC


def test_the_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC and before <= now <= datetime.now(UTC)


def test_a_manual_clock_reads_the_machine_time_until_set() -> None:
    clock = ManualClock()
    before = datetime.now(UTC)
    assert before <= clock.now() <= datetime.now(UTC)
    clock.advance(timedelta(hours=2))
    assert clock.now() - datetime.now(UTC) > timedelta(hours=1, minutes=59)


def test_set_stops_now_and_monotonic_and_advance_moves_both() -> None:
    clock = ManualClock(AT)
    assert clock.now() == datetime(2026, 11, 24, 2, 0, tzinfo=UTC) and clock.now().tzinfo is UTC
    standing = clock.monotonic()
    time.sleep(0.01)  # real time passes; the stopped clock does not
    assert (clock.now(), clock.monotonic()) == (AT, standing)
    clock.advance(timedelta(seconds=90))
    assert (clock.now(), clock.monotonic()) == (AT + timedelta(seconds=90), standing + 90)


def test_reset_runs_on_without_monotonic_going_back() -> None:
    clock = ManualClock(AT)
    clock.advance(timedelta(days=1))
    standing = clock.monotonic()
    clock.reset()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.monotonic() >= standing


def test_a_naive_instant_or_going_back_is_refused() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="no UTC offset"):
        clock.set(datetime(2026, 11, 24, 10, 0))
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
