"""The half-hourly wait forecast from the live state and the learned profile."""

from __future__ import annotations

import dataclasses

from demodata.forecourt_sim import HARD_FAULTS, HOLIDAY_RUN_START, holiday_stations, simulate
from occupancy.book import OccupancyBook
from occupancy.forecast import marks

DAY = 86400.0


def _book(
    days: int = 4, station: int = 2, holidays: frozenset[int] = frozenset(), hour: float = 5.0
) -> tuple[OccupancyBook, int, float]:
    spec = dataclasses.replace(holiday_stations()[station], holidays=holidays)  # 5 positions
    sim = simulate(spec, days, seed=11, faults=HARD_FAULTS, start=HOLIDAY_RUN_START)
    book = OccupancyBook()
    book.set_layout(spec.station_id, spec.positions)
    end = HOLIDAY_RUN_START + (days - 1) * DAY + hour * 3600.0  # that hour of the last day
    book.apply([d.item for d in sim.deliveries if d.item.ts <= end])
    return book, spec.station_id, end


def test_marks_are_the_half_hours_after_as_of() -> None:
    at = HOLIDAY_RUN_START + 3600.0 + 10.0
    got = marks(at, 2, 8 * 3600.0)
    assert got == [HOLIDAY_RUN_START + 3600.0 + k * 1800.0 for k in range(1, 5)]


def test_peaks_ahead_wait_longer_and_the_holiday_longer_still() -> None:
    """From 05:00 on Thursday 24 September 2026, 48 hours ahead: the morning peak waits longer than the
    night; Friday 25 is the Mid-Autumn holiday (flagged), its peak expected busier than Thursday's."""
    book, sid, as_of = _book()
    slots = book.forecast(sid, "92", as_of, 48)
    assert slots is not None and len(slots) == 96
    by_hour = {round((s.at - as_of) / 3600.0, 1): s for s in slots}
    thursday_peak = max(by_hour[h].wait.mean_s for h in (2.5, 3.0, 3.5))
    night = by_hour[19.0]  # Thursday 24:00
    friday_peak = max(by_hour[h].wait.mean_s for h in (26.5, 27.0, 27.5))
    assert not by_hour[3.0].holiday and by_hour[27.0].holiday
    assert night.wait.mean_s < thursday_peak < friday_peak
    assert by_hour[27.0].arrival_rate_per_hour > 1.5 * by_hour[3.0].arrival_rate_per_hour
    for s in slots:
        assert 0.0 <= s.wait.p10_s <= s.wait.p90_s
    assert book.forecast(sid, "92", as_of, 48) == slots  # seeded from (station, grade, as_of)


def test_a_reported_queue_drains_over_the_next_hours() -> None:
    """The holiday's 18:30 at the station that counts its queue: the next half hour starts from the queue
    now (as /wait does), the later evening expects far less."""
    book, sid, as_of = _book(5, 3, frozenset({4}), 18.5)
    now = book.wait(sid, "92", as_of)
    slots = book.forecast(sid, "92", as_of, 5)
    assert now is not None and slots is not None and now.queue_ahead >= 10
    assert slots[0].wait.mean_s > 0.5 * now.minutes * 60 > 5 * 60
    assert slots[-1].wait.mean_s < slots[0].wait.mean_s / 3
    assert book.forecast(sid, "98", as_of, 4) is not None and book.forecast(sid, "E10", as_of, 4) is None
