"""The wait estimate on hand-built scenarios whose answer is known."""

from __future__ import annotations

import math

import numpy as np

from occupancy.book import OccupancyBook
from occupancy.estimator import Slot, simulate_wait
from occupancy.events import NozzleEvent, NozzleState, PositionLayout, WaitingReport
from occupancy.learning import BUCKETS, PRIOR_PHASES, StationModel

S = NozzleState
DAY = 86400.0
T0 = 1_793_548_800.0 + 2 * DAY + 10 * 3600  # 10:00 local on the third simulated day
SID = 11
EXACT = 1e-4  # a log-normal sigma small enough to make durations exact


def _model(**phases: float) -> StationModel:
    return StationModel(
        mu=math.log(phases.get("session", 300.0)),
        sigma=EXACT,
        gap_s=20.0,
        retake_s=45.0,
        rate_per_h=tuple([20.0] * BUCKETS),
        grade_mix={"92": 1.0},
        days=3,
        phases={
            S.CALLING: (math.log(phases.get("pre", 10.0)), EXACT),
            S.FUELING: (math.log(phases.get("fuel", 150.0)), EXACT),
            S.COMPLETED: (math.log(phases.get("pay", 60.0)), EXACT),
        },
    )


def _queues(n: int, samples: int = 200) -> np.ndarray:
    q = np.full((samples, 40), -1, dtype=np.int64)
    q[:, :n] = 0
    return q


G92 = frozenset({"92"})


def test_one_busy_position_no_queue_waits_its_remaining_time() -> None:
    model = _model(fuel=150.0, pay=60.0)
    paying = [Slot(1, G92, "busy", 200.0, S.COMPLETED, 20.0)]
    d = simulate_wait(model, paying, "92", _queues(0), ["92"], seed=1)
    assert abs(d.mean_s - 40.0) < 0.5 and abs(d.p10_s - 40.0) < 0.5 and abs(d.p90_s - 40.0) < 0.5
    fueling = [Slot(1, G92, "busy", 110.0, S.FUELING, 100.0)]
    d = simulate_wait(model, fueling, "92", _queues(0), ["92"], seed=1)
    assert abs(d.mean_s - (50.0 + 60.0)) < 0.5


def test_free_position_means_no_wait() -> None:
    model = _model()
    slots = [Slot(1, G92, "free", 5.0), Slot(2, G92, "busy", 100.0, S.FUELING, 90.0)]
    d = simulate_wait(model, slots, "92", _queues(0), ["92"], seed=1)
    assert (d.mean_s, d.p10_s, d.p90_s) == (0.0, 0.0, 0.0)


def test_queue_of_three_on_two_positions_with_fixed_durations() -> None:
    # position 1 frees at 30 s, position 2 at 90 s; each new vehicle holds a position 20 + 300 s:
    # queued 1 -> p1 at 30 (free again 350), queued 2 -> p2 at 90 (410), queued 3 -> p1 at 350,
    # ours -> p2 at 410
    model = _model(pay=60.0, session=300.0)
    slots = [Slot(1, G92, "busy", 200.0, S.COMPLETED, 30.0), Slot(2, G92, "busy", 200.0, S.FUELING, 120.0)]
    # p2: fueling 150 s of which 120 done -> 30 s + paying 60 s = 90 s
    d = simulate_wait(model, slots, "92", _queues(3), ["92"], seed=3)
    assert abs(d.mean_s - 410.0) < 1.0
    assert abs(simulate_wait(model, slots, "92", _queues(0), ["92"], seed=3).mean_s - 30.0) < 0.5
    assert abs(simulate_wait(model, slots, "92", _queues(1), ["92"], seed=3).mean_s - 90.0) < 0.5


def test_queued_vehicles_of_other_grades_only_take_positions_they_can_use() -> None:
    model = _model(pay=60.0, session=300.0)
    diesel_only = frozenset({"0"})
    slots = [
        Slot(1, G92, "busy", 200.0, S.COMPLETED, 30.0),
        Slot(2, diesel_only, "busy", 200.0, S.COMPLETED, 50.0),
    ]
    q = np.full((100, 40), -1, dtype=np.int64)
    q[:, :2] = 0  # two diesel vehicles ahead: they wait for position 2, not ours
    d = simulate_wait(model, slots, "92", q, ["0", "92"], seed=1)
    assert abs(d.mean_s - 30.0) < 0.5


# ---- through the book: learned durations, a reported queue, determinism ------------------------------------


def _history(book: OccupancyBook, days: int) -> dict[tuple[int, int], int]:
    """Exact sessions on both positions every 400 s for `days` days before T0's day:
    calling, +5 authorized, +10 fueling, +190 completed (fueling 180 s), +250 idle (paying 60 s)."""
    seqs: dict[tuple[int, int], int] = {}
    start = T0 - 10 * 3600 - days * DAY
    items = []
    for pos in (1, 2):
        t = start
        while t < T0 - 10 * 3600:
            for dt, state in (
                (0, S.CALLING),
                (5, S.AUTHORIZED),
                (10, S.FUELING),
                (190, S.COMPLETED),
                (250, S.IDLE),
            ):
                seqs[(pos, 1)] = seqs.get((pos, 1), 0) + 1
                items.append(NozzleEvent(SID, pos, 1, state, t + dt + pos, seqs[(pos, 1)]))
            t += 400.0
    book.apply(items)
    return seqs


def _book_with_history() -> tuple[OccupancyBook, dict[tuple[int, int], int]]:
    book = OccupancyBook()
    book.set_layout(SID, [PositionLayout(1, {1: "92"}), PositionLayout(2, {1: "92"})])
    return book, _history(book, 2)


def _emit(
    book: OccupancyBook, seqs: dict[tuple[int, int], int], pos: int, state: NozzleState, ts: float
) -> None:
    seqs[(pos, 1)] += 1
    book.apply([NozzleEvent(SID, pos, 1, state, ts, seqs[(pos, 1)])])


def test_book_learns_durations_and_waits_behind_a_reported_queue() -> None:
    book, seqs = _book_with_history()
    model = book.model(SID, T0)
    assert model is not None and model.days == 2
    assert abs(math.exp(model.phases[S.FUELING][0]) - 180.0) < 2 and abs(model.median_s - 250.0) < 3
    # both positions busy: p1 paying for 30 s (30 s left), p2 fueling for 100 s (80 + 60 = 140 s left)
    for pos, (calling, fueling, completed) in {1: (-220, -210, -30), 2: (-110, -100, None)}.items():
        _emit(book, seqs, pos, S.CALLING, T0 + calling)
        _emit(book, seqs, pos, S.AUTHORIZED, T0 + calling + 5)
        _emit(book, seqs, pos, S.FUELING, T0 + fueling)
        if completed is not None:
            _emit(book, seqs, pos, S.COMPLETED, T0 + completed)
    book.apply([WaitingReport(SID, 1, T0 - 5)])
    est = book.wait(SID, "92", T0)
    assert est is not None
    assert est.basis == "reported_queue" and est.busy_positions == 2 and est.total_positions == 2
    assert abs(est.queue_ahead - 1.0) < 0.1
    # the waiting vehicle takes p1 at 30 s; ours gets p2 at 140 s
    assert abs(est.minutes - 140 / 60) < 0.25, est
    assert est.p10_minutes <= est.minutes <= est.p90_minutes
    assert est.suggested_position is None
    assert book.wait(SID, "92", T0) == est  # deterministic
    assert book.wait_minutes(SID, "92", T0) == (est.minutes, False)


def test_free_position_gives_zero_and_is_suggested() -> None:
    book, seqs = _book_with_history()
    _emit(book, seqs, 1, S.CALLING, T0 - 100)
    book.apply([NozzleEvent(SID, 2, 1, S.IDLE, T0 - 60, seqs[(2, 1)] + 1)])
    est = book.wait(SID, "92", T0)
    assert est is not None
    assert (est.minutes, est.p10_minutes, est.p90_minutes) == (0.0, 0.0, 0.0)
    assert est.suggested_position == 2 and est.busy_positions == 1
    assert book.wait(SID, "95", T0) is None  # no position serves 95


def test_replay_gives_the_same_answers() -> None:
    first, seqs = _book_with_history()
    _emit(first, seqs, 1, S.CALLING, T0 - 100)
    _emit(first, seqs, 2, S.CALLING, T0 - 50)
    second, _ = _book_with_history()
    second.apply(
        [
            NozzleEvent(SID, 1, 1, S.CALLING, T0 - 100, seqs[(1, 1)]),
            NozzleEvent(SID, 2, 1, S.CALLING, T0 - 50, seqs[(2, 1)]),
        ]
    )
    for dt in (-60, 0, 30, 120):
        assert first.wait(SID, "92", T0 + dt) == second.wait(SID, "92", T0 + dt)
    est = first.wait(SID, "92", T0)
    assert est is not None and est.basis == "inferred_queue" and est.minutes > 0


def test_priors_before_any_history() -> None:
    book = OccupancyBook()
    book.set_layout(SID, [PositionLayout(1, {1: "92"})])
    book.apply([NozzleEvent(SID, 1, 1, S.FUELING, T0 - 30, 1)])
    model = book.model(SID, T0)
    assert model is not None and model.days == 0 and model.phases == PRIOR_PHASES
    est = book.wait(SID, "92", T0)
    assert est is not None and est.minutes > 0 and est.busy_positions == 1
