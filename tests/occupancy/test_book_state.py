"""The book's live state rules: seq order, late and repeated events, claims, staleness, event time."""

from __future__ import annotations

import random

from occupancy.book import OccupancyBook, PositionView
from occupancy.events import NozzleEvent, NozzleState, PositionClaim, PositionLayout, WaitingReport

S = NozzleState
T0 = 1_793_600_000.0
SID = 7


def _book(stale_after_s: float = 300.0) -> OccupancyBook:
    book = OccupancyBook(stale_after_s=stale_after_s)
    book.set_layout(SID, [PositionLayout(1, {1: "92", 2: "95"}), PositionLayout(2, {1: "92"})])
    return book


def _ev(pos: int, noz: int, state: NozzleState, dt: float, seq: int) -> NozzleEvent:
    return NozzleEvent(SID, pos, noz, state, T0 + dt, seq)


def _view(book: OccupancyBook, number: int, dt: float) -> PositionView:
    occ = book.occupancy(SID, T0 + dt)
    assert occ is not None
    return next(p for p in occ.positions if p.number == number)


SESSION = [
    _ev(1, 1, S.IDLE, 0, 1),
    _ev(2, 1, S.IDLE, 0, 1),
    _ev(1, 1, S.CALLING, 10, 2),
    _ev(1, 1, S.AUTHORIZED, 20, 3),
    _ev(1, 1, S.FUELING, 25, 4),
    _ev(1, 1, S.COMPLETED, 200, 5),
    _ev(1, 1, S.IDLE, 260, 6),
]


def test_position_status_follows_its_nozzles() -> None:
    book = _book()
    book.apply(SESSION)
    assert _view(book, 1, 5).status == "free"
    busy = _view(book, 1, 100)
    assert (busy.status, busy.nozzle_state, busy.since) == ("occupied", S.FUELING, T0 + 10)
    paying = _view(book, 1, 230)
    assert (paying.status, paying.nozzle_state, paying.since) == ("occupied", S.COMPLETED, T0 + 10)
    done = _view(book, 1, 270)
    assert (done.status, done.since) == ("free", T0 + 260)
    assert _view(book, 2, 100).status == "free"
    assert book.nozzle_state(SID, 1, 1, T0 + 100) is S.FUELING
    assert book.nozzle_state(SID, 1, 2, T0 + 100) is None  # never reported


def test_events_in_any_order_give_the_same_state_and_repeats_are_ignored() -> None:
    ordered = _book()
    ordered.apply(SESSION)
    shuffled = _book()
    items = SESSION * 3  # every event delivered three times
    random.Random(4).shuffle(items)
    for item in items:
        shuffled.apply([item])
    for dt in (0, 15, 22, 100, 230, 265, 400):
        assert ordered.occupancy(SID, T0 + dt) == shuffled.occupancy(SID, T0 + dt)


def test_state_is_the_highest_seq_at_or_before_as_of() -> None:
    book = _book()
    book.apply(SESSION[:5])
    assert _view(book, 1, 300).nozzle_state is S.FUELING
    book.apply([SESSION[6]])  # idle arrives before completed (which was delayed)
    assert _view(book, 1, 300).status == "free"
    book.apply([SESSION[5]])
    assert _view(book, 1, 230).nozzle_state is S.COMPLETED
    assert _view(book, 1, 300).status == "free"


def test_answers_use_only_items_at_or_before_as_of() -> None:
    early = _book()
    early.apply(SESSION[:4])
    full = _book()
    full.apply(SESSION)
    assert early.occupancy(SID, T0 + 22) == full.occupancy(SID, T0 + 22)
    assert early.wait(SID, "95", T0 + 22) == full.wait(SID, "95", T0 + 22)


def test_unknown_station_or_nozzle_is_ignored() -> None:
    book = _book()
    book.apply([NozzleEvent(99, 1, 1, S.CALLING, T0, 1), _ev(1, 9, S.CALLING, 0, 1)])
    assert book.occupancy(99, T0) is None
    assert not book.has_layout(99)
    occ = book.occupancy(SID, T0)
    assert occ is not None and occ.last_report is None


def test_a_silent_station_is_stale_and_unknown_never_free() -> None:
    book = _book(stale_after_s=300)
    never = book.occupancy(SID, T0)
    assert never is not None and never.stale and {p.status for p in never.positions} == {"unknown"}
    book.apply(SESSION)
    fresh = book.occupancy(SID, T0 + 300)
    assert fresh is not None and not fresh.stale and fresh.last_report == T0 + 260
    silent = book.occupancy(SID, T0 + 261 + 300)
    assert silent is not None and silent.stale
    assert {p.status for p in silent.positions} == {"unknown"}
    est = book.wait(SID, "92", T0 + 261 + 300)
    assert est is not None and est.stale and est.basis == "history_only" and est.suggested_position is None


def test_waiting_report_is_shown_while_recent_and_counts_as_a_report() -> None:
    book = _book()
    book.apply(SESSION)
    book.apply([WaitingReport(SID, 3, T0 + 500), WaitingReport(SID, 3, T0 + 500)])
    occ = book.occupancy(SID, T0 + 520)
    assert occ is not None and occ.waiting_vehicles == 3 and occ.last_report == T0 + 500 and not occ.stale
    later = book.occupancy(SID, T0 + 500 + 301)
    assert later is not None and later.waiting_vehicles is None
    before = book.occupancy(SID, T0 + 499)
    assert before is not None and before.waiting_vehicles is None


def test_claim_holds_a_position_until_its_next_pump_event() -> None:
    book = _book()
    book.apply(SESSION)
    book.apply([PositionClaim(SID, 2, "order-1", T0 + 300), PositionClaim(SID, 2, "order-1", T0 + 300)])
    before = _view(book, 2, 299)
    assert before.status == "free"
    held = _view(book, 2, 320)
    assert (held.status, held.claimed_by, held.since) == ("claimed", "order-1", T0 + 300)
    est = book.wait(SID, "92", T0 + 320)
    assert est is not None and est.busy_positions == 1 and est.suggested_position == 1
    book.apply([_ev(2, 1, S.CALLING, 340, 2)])
    taken = _view(book, 2, 350)
    assert (taken.status, taken.claimed_by) == ("occupied", None)
    assert _view(book, 2, 320).status == "claimed"  # replay of the earlier moment is unchanged


def test_a_nozzle_silent_in_a_session_for_long_counts_as_free() -> None:
    book = _book(stale_after_s=10_000)
    book.apply([_ev(2, 1, S.IDLE, 0, 1), _ev(2, 1, S.CALLING, 10, 2)])
    assert _view(book, 2, 600).status == "occupied"
    assert _view(book, 2, 3000).status == "free"  # the closing event was lost


def test_memory_is_bounded_by_the_raw_window_and_packed_days() -> None:
    book = _book()
    seq = 1
    for day in range(20):
        for k in range(50):
            t = day * 86400.0 + k * 600.0
            book.apply([_ev(2, 1, S.CALLING, t, seq), _ev(2, 1, S.IDLE, t + 300, seq + 1)])
            seq += 2
    st = book._stations[SID]
    log = st.nozzles[(2, 1)]
    assert len(log.seqs) <= 2 * (book.raw_keep_s + 1800.0) / 600.0 + 2  # the raw window, not days
    assert len(st.days) <= book.history_days + 2
    packed = [d for d in st.days.values() if isinstance(d, bytes)]
    assert len(packed) >= book.history_days - 1 and all(len(d) < 400 for d in packed)
    model = book.model(SID, T0 + 19.5 * 86400)
    assert model is not None and model.days == book.history_days
    assert abs(model.median_s - 300.0) < 1.0


def test_a_long_idle_run_keeps_its_start_when_its_first_events_are_dropped() -> None:
    book = _book()
    book.apply([_ev(2, 1, S.IDLE, 0, 1)])
    seq = 2
    for k in range(1, 200):  # heartbeats every 2 minutes for over 6 hours
        book.apply([_ev(2, 1, S.IDLE, k * 120.0, seq)])
        seq += 1
    assert len(book._stations[SID].nozzles[(2, 1)].seqs) < 100
    assert _view(book, 2, 199 * 120.0).since == T0  # free since the first event, long dropped


def test_positions_that_never_reported_give_a_history_answer() -> None:
    book = _book()
    book.apply([_ev(2, 1, S.IDLE, 0, 1)])  # only position 2 reports; position 1 alone serves 95
    assert _view(book, 1, 10).status == "unknown"
    est = book.wait(SID, "95", T0 + 10)
    assert est is not None and est.basis == "history_only" and not est.stale
    assert est.suggested_position is None


def test_long_reported_queues_are_not_capped() -> None:
    answers = {}
    for waiting in (20, 40, 80):
        book = _book()
        busy = [_ev(1, 1, S.IDLE, 0, 1), _ev(2, 1, S.IDLE, 0, 1)]
        busy += [_ev(1, 1, S.CALLING, 10, 2), _ev(1, 1, S.FUELING, 20, 3)]
        busy += [_ev(2, 1, S.CALLING, 10, 2), _ev(2, 1, S.FUELING, 20, 3)]
        book.apply([*busy, WaitingReport(SID, waiting, T0 + 30)])
        est = book.wait(SID, "92", T0 + 40)
        assert est is not None and est.basis == "reported_queue"
        answers[waiting] = est
    assert answers[40].queue_ahead > 30 and answers[80].queue_ahead > 70  # 24 was the old ceiling
    assert answers[20].minutes < answers[40].minutes < answers[80].minutes


def test_a_free_position_is_not_suggested_when_the_queue_ahead_will_take_it() -> None:
    book = _book()
    book.apply(
        [
            _ev(1, 1, S.IDLE, 0, 1),
            _ev(2, 1, S.IDLE, 0, 1),
            _ev(1, 1, S.CALLING, 10, 2),
            _ev(1, 1, S.FUELING, 20, 3),
            _ev(2, 1, S.CALLING, 10, 2),
            _ev(2, 1, S.FUELING, 20, 3),
            _ev(2, 1, S.COMPLETED, 200, 4),
            _ev(2, 1, S.IDLE, 230, 5),  # position 2 freed a moment ago
            WaitingReport(SID, 6, T0 + 232),  # six cars wait for it
        ]
    )
    est = book.wait(SID, "92", T0 + 235)
    assert est is not None and est.queue_ahead >= 1 and est.minutes > 0
    assert est.suggested_position is None
    calm = _book()
    calm.apply([_ev(1, 1, S.IDLE, 0, 1), _ev(2, 1, S.IDLE, 0, 1), WaitingReport(SID, 0, T0 + 5)])
    free = calm.wait(SID, "92", T0 + 200)
    assert free is not None and free.minutes == 0 and free.suggested_position is not None
