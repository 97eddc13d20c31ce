"""The forecourt simulator's invariants, and the in-process scorer on a tiny seeded station."""

from __future__ import annotations

from collections import Counter, defaultdict

from demodata.forecourt_sim import Faults, Peak, StationSpec, is_peak, rate_at, simulate, standard_stations
from loadtests.wait_scoring import metrics, score_station, summary
from occupancy.events import NozzleEvent, WaitingReport, transition_allowed

SMALL = standard_stations()[0]
REPORTING = standard_stations()[1]


def test_waits_are_first_come_first_served_and_never_negative() -> None:
    sim = simulate(SMALL, 2, seed=3)
    layout = {p.number: p.grades for p in SMALL.positions}
    assert sim.vehicles and all(v.wait_s >= 0 for v in sim.vehicles)
    assert any(v.wait_s > 0 for v in sim.vehicles)
    # nobody gets a position that an earlier vehicle, still waiting then, could have used
    for b in sim.vehicles:
        for a in sim.vehicles:
            if a.arrival < b.arrival and a.given_at > b.given_at:
                assert a.grade not in layout[b.position], (a, b)
    # every vehicle got a position serving its grade
    assert all(v.grade in layout[v.position] for v in sim.vehicles)


def test_nozzle_sequences_are_valid_before_faults() -> None:
    sim = simulate(SMALL, 1, seed=5)
    by_nozzle: dict[tuple[int, int], list[NozzleEvent]] = defaultdict(list)
    for e in sim.events:
        by_nozzle[(e.position, e.nozzle)].append(e)
    for events in by_nozzle.values():
        events.sort(key=lambda e: e.seq)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        for prev, cur in zip(events, events[1:], strict=False):
            assert cur.ts >= prev.ts
            assert transition_allowed(prev.state, cur.state, cur.seq - prev.seq), (prev, cur)


def test_telemetry_faults_drop_repeat_and_reorder() -> None:
    faults = Faults(drop=0.05, repeat=0.05, delay=0.05)
    sim = simulate(SMALL, 1, seed=7, faults=faults)
    sent = Counter(id(e) for e in sim.events)
    delivered = Counter(id(d.item) for d in sim.deliveries if isinstance(d.item, NozzleEvent))
    assert len(set(sent) - set(delivered)) > 0  # some dropped
    assert any(n > 1 for n in delivered.values())  # some repeated
    ts = [d.item.ts for d in sim.deliveries]
    assert any(b < a for a, b in zip(ts, ts[1:], strict=False))  # some reordered
    assert all(d.at >= d.item.ts for d in sim.deliveries)
    assert [d.at for d in sim.deliveries] == sorted(d.at for d in sim.deliveries)


def test_seeded_and_shaped_by_the_peaks() -> None:
    spec = StationSpec(1, SMALL.positions, day_rate_per_h=10.0, peaks=(Peak(8.0, 0.5, 30.0),))
    assert rate_at(spec, 8.0) > 3 * rate_at(spec, 14.0) > rate_at(spec, 3.0)
    one, two = simulate(spec, 1, seed=9), simulate(spec, 1, seed=9)
    assert one.vehicles == two.vehicles and one.deliveries == two.deliveries
    assert simulate(spec, 1, seed=10).vehicles != one.vehicles
    peak = sum(1 for v in one.vehicles if is_peak(spec, v.arrival))
    assert peak > len(one.vehicles) / 24 * 1.0 * 2  # the peak hour holds well above an average hour's share


def test_reports_come_only_from_reporting_stations() -> None:
    quiet = simulate(SMALL, 1, seed=1)
    counting = simulate(REPORTING, 1, seed=1)
    assert not quiet.reports
    assert len(counting.reports) >= 1400 and any(r.waiting_vehicles > 0 for r in counting.reports)
    assert any(isinstance(d.item, WaitingReport) for d in counting.deliveries)


def test_scorer_on_a_tiny_day() -> None:
    sim = simulate(REPORTING, 3, seed=2)
    rows = score_station(sim, learn_days=2)
    day3 = [v for v in sim.vehicles if v.arrival >= sim.start + 2 * 86400]
    assert len(rows) == len(day3)
    assert all(r.est_min >= 0 and r.p10_min <= r.p90_min and r.naive_min >= 0 for r in rows)
    assert {r.basis for r in rows} <= {"reported_queue", "inferred_queue", "history_only"}
    assert any(r.basis == "reported_queue" for r in rows)
    assert all(r.hist_min == rows[0].hist_min for r in rows)  # mean of the earlier days' true waits
    earlier = [v.wait_s / 60 for v in sim.vehicles if v.arrival < sim.start + 2 * 86400]
    assert abs(rows[0].hist_min - sum(earlier) / len(earlier)) < 1e-9
    m = metrics(rows)
    assert m["n"] == len(rows) and 0.0 <= m["coverage"] <= 1.0
    assert m["mae"] < m["hist_mae"]  # live state beats the station's average
    assert m["mae"] < m["naive_mae"]
    assert set(summary(rows)) >= {"overall", "peak"}


def test_the_harder_stations_have_holidays_double_nozzles_and_long_diesel_fills() -> None:
    from demodata.forecourt_sim import HARD_FAULTS, HOLIDAY_RUN_START, holiday_stations, is_holiday

    spec = holiday_stations()[2]  # 5 positions, no queue counts
    sim = simulate(spec, 5, seed=4, faults=HARD_FAULTS, start=HOLIDAY_RUN_START)

    def peak_waits(day: int) -> list[float]:
        return [
            v.wait_s
            for v in sim.vehicles
            if int((v.arrival - sim.start) // 86400) == day and is_peak(spec, v.arrival)
        ]

    assert is_holiday(sim, HOLIDAY_RUN_START + 4 * 86400 + 3600) and not is_holiday(sim, HOLIDAY_RUN_START)
    ordinary, holiday = peak_waits(3), peak_waits(4)
    assert len(holiday) > 1.5 * len(ordinary)
    assert sum(holiday) / len(holiday) > 4 * sum(ordinary) / len(ordinary)
    # both nozzles of a doubled grade are used
    doubled = {(e.position, e.nozzle) for e in sim.events if e.position == 2 and e.state.value == "fueling"}
    assert {(2, 1), (2, 2)} <= doubled
    # heartbeats from every nozzle, idle ones included: each nozzle reports at least every 2 minutes
    idle_beats = Counter((e.position, e.nozzle) for e in sim.events if e.state.value == "idle")
    assert all(idle_beats[(p.number, n)] > 5 * 24 * 20 for p in spec.positions for n in p.nozzle_grades)

    # diesel fills last longer than petrol ones
    def fills(grade: str) -> list[float]:
        nozzles = {(p.number, n) for p in spec.positions for n, g in p.nozzle_grades.items() if g == grade}
        starts: dict[tuple[int, int], float] = {}
        out = []
        for e in sim.events:
            key = (e.position, e.nozzle)
            if key not in nozzles:
                continue
            if e.state.value == "fueling" and key not in starts:
                starts[key] = e.ts
            elif e.state.value == "completed" and key in starts:
                out.append(e.ts - starts.pop(key))
        return sorted(out)

    diesel, petrol = fills("0"), fills("92")
    assert diesel[len(diesel) // 2] > 1.2 * petrol[len(petrol) // 2]
