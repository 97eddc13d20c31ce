"""The queue-ahead particle filter and the arrivals that join the queue."""

from __future__ import annotations

import math

from occupancy.events import NozzleState
from occupancy.intensity import Intensity
from occupancy.learning import BUCKETS, PRIOR_PHASES, StationModel, turnover
from occupancy.particles import QueueFilter, Retake, run_filter
from occupancy.queueing import Arrivals, FreeWindow

T = 1_793_600_000.0
DIESEL = frozenset({"0"})
PETROL = frozenset({"92", "95"})


def _model(rate_per_h: float = 36.0) -> StationModel:
    return StationModel(
        mu=math.log(300.0),
        sigma=0.3,
        gap_s=20.0,
        retake_s=40.0,
        rate_per_h=tuple([rate_per_h] * BUCKETS),
        grade_mix={"92": 0.5, "95": 0.3, "0": 0.2},
        days=3,
        phases=dict(PRIOR_PHASES),
    )


def test_arrivals_that_find_a_free_position_do_not_queue() -> None:
    model = _model(36.0)  # 0.01 per second
    none = Arrivals(model, 8 * 3600.0, [])
    assert abs(none.mean(T, T + 100) - 1.0) < 1e-9
    petrol_free = Arrivals(model, 8 * 3600.0, [FreeWindow(T + 50, T + 100, PETROL)])
    assert abs(petrol_free.mean(T, T + 100) - (0.5 + 0.5 * 0.2)) < 1e-9  # only diesel queues while free
    assert petrol_free.open_grades(T + 60) == PETROL and petrol_free.open_grades(T + 10) == frozenset()
    everything = Arrivals(
        model, 8 * 3600.0, [FreeWindow(T, T + 30, PETROL), FreeWindow(T + 10, T + 20, DIESEL)]
    )
    assert everything.last_all_free(T + 100) == T + 20


def test_a_report_sets_the_queue_and_quick_retakes_take_from_it() -> None:
    model = _model(0.0)
    f = run_filter(model, 8 * 3600.0, T, [], [], [(T - 100, 3)], T - 600, seed=1)
    assert f.mean_length() == 3.0
    retake = Retake(T - 50, PETROL, "92", 25.0)
    f = run_filter(model, 8 * 3600.0, T, [retake], [], [(T - 100, 3)], T - 600, seed=1)
    assert abs(f.mean_length() - 2.0) < 1e-9


def test_a_free_spell_clears_who_could_have_used_the_position() -> None:
    model = _model(0.0)
    f = run_filter(model, 8 * 3600.0, T, [], [FreeWindow(T - 50, T - 10, PETROL)], [(T - 100, 4)], T - 600, 1)
    grades = {f.grades[int(g)] for row in f.q for g in row if g >= 0}
    assert grades <= {"0"}  # only diesel can still be waiting


def test_quick_retakes_imply_a_queue_that_long_free_spells_deny() -> None:
    model = _model(60.0)
    quick = [Retake(T - 600 + 60 * k, PETROL, "92", 20.0) for k in range(8)]
    busy = run_filter(model, 8 * 3600.0, T, quick, [], [], T - 900, seed=2)
    idle = run_filter(
        model, 8 * 3600.0, T, [], [FreeWindow(T - 900, T, PETROL | DIESEL)], [], T - 900, seed=2
    )
    assert idle.mean_length() == 0.0
    assert busy.mean_length() > 0.5


def test_on_a_busy_day_positions_sitting_free_between_cars_lower_the_arrival_factor() -> None:
    """A holiday hour (prior factor 2) without queue counts: one station's positions are retaken at once
    all along, the other's stand free 100 s before each car. The free spells contradict the queues the
    high factors built, so the second station's factor falls well below the prior (and its queue is
    shorter); the first one's rises."""
    model = _model(12.0)
    holiday = Intensity(2.0, 0.25, True)
    start = T - 3600
    grades = (PETROL, DIESEL | {"92"})  # the two never free at once: the look-back is never all free
    quick = [Retake(start + 320 * k + 160 * p, grades[p], "92", 20.0) for k in range(11) for p in range(2)]
    slow = [Retake(start + 420 * k + 210 * p, grades[p], "92", 100.0) for k in range(8) for p in range(2)]
    free = [FreeWindow(r.ts - 100.0, r.ts - model.gap_s, r.grades) for r in slow]
    retaken = run_filter(model, 8 * 3600.0, T, quick, [], [], start, 3, intensity=holiday, positions=2)
    sitting = run_filter(model, 8 * 3600.0, T, slow, free, [], start, 3, intensity=holiday, positions=2)
    assert sitting.mean_scale() < 0.9 * holiday.center < retaken.mean_scale()
    assert sitting.mean_length() < retaken.mean_length() / 2


def _diesel_share(f: QueueFilter) -> float:
    diesel = f.index["0"]
    return float((f.w * (f.q == diesel).any(axis=1)).sum())


def test_a_petrol_position_freed_moments_ago_and_still_empty_points_to_a_diesel_queue() -> None:
    model = _model(0.0)
    report = [(T - 30, 1)]
    plain = run_filter(model, 8 * 3600.0, T, [], [], report, T - 600, seed=3)
    late = run_filter(model, 8 * 3600.0, T, [], [], report, T - 600, seed=3, just_freed=[(PETROL, 35.0)])
    assert late.mean_length() == plain.mean_length() == 1.0
    assert _diesel_share(late) > 2 * _diesel_share(plain)
    assert model.still_coming(0.0) == 1.0 and model.still_coming(60.0) == 0.0


def test_turnover_finds_the_retake_peak() -> None:
    hist = [0, 0, 30, 60, 50, 20, 3, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3]
    gap, retake, shares = turnover(hist)
    assert 15.0 < gap < 25.0 and 25.0 <= retake <= 35.0
    assert abs(sum(shares) - 1.0) < 1e-9
    assert turnover([1] * 30)[1] > 0  # too little data: priors
    assert NozzleState.FUELING in PRIOR_PHASES
