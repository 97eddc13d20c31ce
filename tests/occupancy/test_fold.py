"""The book learns from events as they age (a fold), not from a day of kept events: the same summaries
as reading each whole day at once, packed days that unpack exactly, and late events kept out of learning."""

from __future__ import annotations

import math
import random

from demodata.forecourt_sim import simulate, standard_stations
from occupancy.book import STUCK_AFTER_S, OccupancyBook
from occupancy.events import NozzleEvent, NozzleState, PositionLayout
from occupancy.learning import BUCKETS, DAY_S, GAP_BINS, DaySummary, day_of, pack, summarise, unpack
from occupancy.timeline import sessions


def _whole_day(book: OccupancyBook, station_id: int, day: int) -> DaySummary:
    """The summary of a day read from all its events at once (the book keeps them all here)."""
    st = book._stations[station_id]
    start = day * DAY_S - book.utc_offset_s
    return summarise(
        (
            s
            for pos, nz in st.by_position.items()
            for s in sessions(pos, nz, start, start + DAY_S, STUCK_AFTER_S)
        ),
        (ph for log in st.nozzles.values() for ph in log.phases(start, start + DAY_S)),
        book.utc_offset_s,
    )


def _close(a: DaySummary, b: DaySummary) -> bool:
    return (
        a.n == b.n
        and math.isclose(a.sum_log, b.sum_log, rel_tol=1e-9)
        and math.isclose(a.sum_log2, b.sum_log2, rel_tol=1e-9)
        and a.starts == b.starts
        and a.gaps == b.gaps
        and a.grades == b.grades
        and a.phases.keys() == b.phases.keys()
        and all(
            a.phases[k][0] == b.phases[k][0] and math.isclose(a.phases[k][1], b.phases[k][1], rel_tol=1e-9)
            for k in a.phases
        )
    )


def test_folded_days_equal_whole_day_summaries_of_a_simulated_station() -> None:
    spec = standard_stations()[2]  # 8 positions, three grades on some
    sim = simulate(spec, 4, seed=11)
    book = OccupancyBook(raw_keep_s=10 * DAY_S)  # keeps every event, so whole days can be read again
    book.set_layout(spec.station_id, spec.positions)
    deliveries = sorted(sim.deliveries, key=lambda d: d.at)
    for k in range(0, len(deliveries), 7):  # small batches in delivery order, as stations post them
        book.apply([d.item for d in deliveries[k : k + 7]])
    st = book._stations[spec.station_id]
    first = day_of(sim.start, book.utc_offset_s)
    compared = 0
    for day in range(first + 1, first + 3):  # whole days, with a day before and after
        folded = st.days[day]
        folded = unpack(folded) if isinstance(folded, bytes) else folded
        whole = _whole_day(book, spec.station_id, day)
        assert sum(whole.starts) > 300
        assert _close(folded, whole), day
        compared += 1
    assert compared == 2


def test_a_packed_day_unpacks_exactly() -> None:
    rnd = random.Random(5)
    d = DaySummary(
        n=rnd.randrange(1000),
        sum_log=rnd.random() * 5000,
        sum_log2=rnd.random() * 40000,
        starts=[rnd.randrange(300) for _ in range(BUCKETS)],
        gaps=[rnd.randrange(50) for _ in range(GAP_BINS)],
        grades={"92": 120, "95": 40, "0": 9, "E92": 1},
        phases={NozzleState.CALLING: (10, 20.5, 60.25), NozzleState.COMPLETED: (3, 1.0, 2.0)},
    )
    data = pack(d)
    assert len(data) < 300
    assert unpack(data) == d
    assert unpack(pack(DaySummary())) == DaySummary()


def test_an_event_later_than_the_fold_lag_counts_live_but_is_not_learned() -> None:
    book = OccupancyBook()
    book.set_layout(1, [PositionLayout(1, {1: "92"})])
    t0 = 1_793_548_800.0 + 3600.0
    seq = 1
    for k in range(12):  # a session every 10 minutes
        t = t0 + k * 600.0
        book.apply(
            [
                NozzleEvent(1, 1, 1, NozzleState.CALLING, t, seq),
                NozzleEvent(1, 1, 1, NozzleState.IDLE, t + 200, seq + 1),
            ]
        )
        seq += 2
    day = day_of(t0, book.utc_offset_s)
    learned = book._stations[1].days[day]
    assert isinstance(learned, DaySummary)
    before = sum(learned.starts)
    late = t0 + 12 * 600.0 - 3000.0  # 50 minutes behind the latest event: beyond the fold lag
    book.apply([NozzleEvent(1, 1, 1, NozzleState.OFFLINE, late, seq + 100)])
    assert book.nozzle_state(1, 1, 1, t0 + 12 * 600.0) is NozzleState.OFFLINE  # live: the newest seq holds
    assert sum(learned.starts) == before


def test_books_fed_the_same_events_in_other_batches_answer_alike() -> None:
    """Learning depends on the events, not on how they were batched or when anyone asked: deliveries late
    by up to 90 s (the simulator's faults) all fall within the fold lag."""
    spec = standard_stations()[3]  # 8 positions, queue reports
    sim = simulate(spec, 3, seed=4)
    deliveries = sorted(sim.deliveries, key=lambda d: d.at)
    books = []
    for size in (1, 13, 400):
        book = OccupancyBook()
        book.set_layout(spec.station_id, spec.positions)
        for k in range(0, len(deliveries), size):
            book.apply([d.item for d in deliveries[k : k + size]])
            if size == 13 and k % (13 * 50) == 0:  # asked now and then, ahead of the events
                book.wait(spec.station_id, "92", deliveries[k].at + 3600.0)
        books.append(book)
    end = deliveries[-1].at
    days = [
        {d: unpack(s) if isinstance(s, bytes) else s for d, s in b._stations[spec.station_id].days.items()}
        for b in books
    ]
    assert days[0] == days[1] == days[2] and len(days[0]) >= 3
    for as_of in (end, end - 120.0, end - 600.0):
        answers = [b.wait(spec.station_id, "92", as_of) for b in books]
        assert answers[0] == answers[1] == answers[2]
