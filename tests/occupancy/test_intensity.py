"""A day running above its usual: the calendar's prior, the day's starts so far, the filter's factors."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from occupancy.intensity import HOLIDAY_FACTOR, Intensity, busy_day, calendar_prior, day_intensity
from occupancy.learning import BUCKET_S, BUCKETS, PRIOR_PHASES, DaySummary, StationModel
from occupancy.particles import Retake, run_filter

CST = 8 * 3600.0
PETROL = frozenset({"92", "95"})


def _ts(y: int, m: int, d: int, hour: float) -> float:
    return datetime(y, m, d, tzinfo=UTC).timestamp() - CST + hour * 3600.0


def _model(rate_per_h: float = 30.0) -> StationModel:
    return StationModel(
        mu=math.log(300.0),
        sigma=0.3,
        gap_s=20.0,
        retake_s=40.0,
        rate_per_h=tuple([rate_per_h] * BUCKETS),
        grade_mix={"92": 0.6, "95": 0.4},
        days=3,
        phases=dict(PRIOR_PHASES),
    )


def _day(starts_per_bucket: int) -> DaySummary:
    return DaySummary(starts=[starts_per_bucket] * BUCKETS)


def test_the_calendar_says_a_public_holiday_runs_above_the_usual() -> None:
    holiday = calendar_prior(_ts(2026, 10, 2, 8.0), CST)
    assert holiday.holiday and holiday.center == HOLIDAY_FACTOR and busy_day(holiday)
    for ordinary in (_ts(2026, 9, 24, 8.0), _ts(2026, 10, 10, 8.0)):  # a Thursday; a make-up Saturday
        prior = calendar_prior(ordinary, CST)
        assert not prior.holiday and prior.center == 1.0 and not busy_day(prior)
    # the local date decides: 2026-10-01 00:30 China time is still 30 September in UTC
    assert calendar_prior(_ts(2026, 10, 1, 0.5), CST).holiday


def test_the_days_starts_so_far_move_the_factor() -> None:
    model = _model(30.0)  # 15 per half hour
    as_of = _ts(2026, 11, 5, 11.0)
    usual = day_intensity(model, _day(15), as_of, CST)
    assert abs(usual.center - 1.0) < 1e-9 and not busy_day(usual)
    busy = day_intensity(model, _day(30), as_of, CST)
    assert busy.center > 1.6 and busy_day(busy)
    quiet = day_intensity(model, _day(5), as_of, CST)
    assert quiet.center < 0.6
    # only half hours that ended at least 30 minutes ago count: a later bucket changes nothing
    later = _day(15)
    later.starts[int((11.0 * 3600 - 900) // BUCKET_S)] = 500
    assert day_intensity(model, later, as_of, CST) == usual
    # a holiday with the usual starts: the prior is pulled back towards them, not ignored
    holiday = day_intensity(model, _day(15), _ts(2026, 10, 2, 11.0), CST)
    assert 1.0 < holiday.center < HOLIDAY_FACTOR and holiday.holiday


def test_busy_positions_retaken_at_once_read_as_a_longer_queue_on_a_busy_day() -> None:
    """An hour of back-to-back sessions on 2 positions: a day running at twice the rate expects more
    vehicles waiting than an ordinary one, and favours the higher factors."""
    model = _model(30.0)
    as_of = _ts(2026, 11, 5, 9.0)
    starts = [
        Retake(as_of - 3600 + k * 160.0 + p * 80.0, PETROL, "92", 25.0) for k in range(22) for p in (0, 1)
    ]
    ordinary = run_filter(model, CST, as_of, starts, [], [], as_of - 3600, 7, positions=2)
    busy = run_filter(
        model, CST, as_of, starts, [], [], as_of - 3600, 7, intensity=Intensity(2.0, 0.25, True), positions=2
    )
    assert busy.mean_length() > ordinary.mean_length() + 3
    assert ordinary.mean_scale() == 1.0 and busy.mean_scale() > 1.5
    again = run_filter(
        model, CST, as_of, starts, [], [], as_of - 3600, 7, intensity=Intensity(2.0, 0.25, True), positions=2
    )
    assert (again.mean_length(), again.mean_scale()) == (busy.mean_length(), busy.mean_scale())
