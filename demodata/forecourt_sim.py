"""A seeded discrete-event simulator of a station's forecourt, its controller telemetry and the true waits.

Vehicles arrive as a non-homogeneous Poisson process (night trough, morning and evening peaks), want one
grade from a mix, and queue first-come-first-served: a position that frees up goes to the earliest waiting
vehicle that can use it; an arriving vehicle drives straight to a free suitable position. At a position:
drive in and lift the nozzle (`calling`), authorisation, fueling (log-normal), `completed` while paying and
leaving (log-normal), then `idle`. Every nozzle reports with its own seq; each position repeats its
state as a heartbeat; some stations count their queue. Telemetry faults: dropped, repeated and delayed
(reordered) deliveries. A vehicle's true wait runs from its arrival until it is given a position.

Harder days (`holiday_stations`): some days are holidays (`StationSpec.holidays`: the peaks' extra
arrivals times a per-day factor drawn from `holiday_peak_factor`, the rest of the day times
`holiday_base_factor`), a position may hold two nozzles of one grade (the vehicle takes either), diesel
fills last `diesel_factor` times longer, every nozzle repeats its state as a heartbeat (idle ones too).
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from occupancy.events import NozzleEvent, NozzleState, PositionLayout, WaitingReport

# 2026-11-02 00:00 China Standard Time, a Monday
EPOCH_CST_MIDNIGHT = 1793548800.0


@dataclass(frozen=True, slots=True)
class Peak:
    hour: float  # local hour of the peak's centre
    width_h: float  # standard deviation of the bump, hours
    extra_per_h: float  # arrivals per hour added at the centre


@dataclass(frozen=True, slots=True)
class StationSpec:
    station_id: int
    positions: tuple[PositionLayout, ...]
    day_rate_per_h: float = 30.0  # daytime arrivals per hour outside the peaks
    night_share: float = 0.2  # night rate as a share of the daytime rate
    peaks: tuple[Peak, ...] = (Peak(8.0, 0.75, 40.0), Peak(18.0, 1.0, 45.0))
    grade_mix: tuple[tuple[str, float], ...] = (("92", 0.5), ("95", 0.32), ("98", 0.05), ("0", 0.13))
    drive_in_s: tuple[float, float] = (12.0, 35.0)  # uniform: given a position -> nozzle lifted
    authorize_s: tuple[float, float] = (3.0, 20.0)  # uniform: calling -> authorized
    start_flow_s: tuple[float, float] = (2.0, 8.0)  # uniform: authorized -> fueling
    fuel_median_s: float = 150.0
    fuel_sigma: float = 0.45
    pay_median_s: float = 75.0  # completed -> idle (paying, leaving)
    pay_sigma: float = 0.55
    reports_every_s: float | None = None  # waiting-vehicle reports (None: the station sends none)
    heartbeat_s: float = 120.0
    day_jitter: float = 0.1  # each day's rates scaled by 1 +- this
    holidays: frozenset[int] = frozenset()  # day indexes (from the start) that are holidays
    holiday_peak_factor: tuple[float, float] = (2.0, 3.0)  # uniform: a holiday's peak extra arrivals x this
    holiday_base_factor: float = 1.3  # a holiday's other arrivals x this
    diesel_factor: tuple[float, float] = (1.0, 1.0)  # uniform: a diesel ("0") fill lasts this x longer
    beat_every_nozzle: bool = False  # heartbeats from every nozzle (else the position's first one)


@dataclass(frozen=True, slots=True)
class Faults:
    drop: float = 0.01
    repeat: float = 0.02
    delay: float = 0.03
    delay_max_s: float = 90.0
    delay_min_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Vehicle:
    arrival: float
    grade: str
    position: int
    given_at: float  # when the position became this vehicle's

    @property
    def wait_s(self) -> float:
        return self.given_at - self.arrival


@dataclass(frozen=True, slots=True)
class Delivery:
    at: float  # when the item reaches the service (>= its ts)
    item: NozzleEvent | WaitingReport


@dataclass(slots=True)
class SimulatedStation:
    spec: StationSpec
    start: float
    days: int
    vehicles: list[Vehicle] = field(default_factory=list)
    events: list[NozzleEvent] = field(default_factory=list)  # as emitted, before faults
    reports: list[WaitingReport] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)  # after faults, in delivery order


def rate_at(
    spec: StationSpec, local_hour: float, peak_factor: float = 1.0, base_factor: float = 1.0
) -> float:
    """Arrivals per hour at a local time of day (before the day's jitter); a holiday multiplies the peaks'
    extra arrivals by `peak_factor` and the rest by `base_factor`."""
    day = 1.0 / (1.0 + math.exp(-(local_hour - 6.0) * 2.0)) - 1.0 / (
        1.0 + math.exp(-(local_hour - 22.0) * 2.0)
    )
    base = spec.day_rate_per_h * (spec.night_share + (1.0 - spec.night_share) * day)
    return base * base_factor + peak_factor * sum(
        p.extra_per_h * math.exp(-((local_hour - p.hour) ** 2) / (2 * p.width_h**2)) for p in spec.peaks
    )


def is_holiday(
    sim_or_spec: SimulatedStation | StationSpec, ts: float, start: float = EPOCH_CST_MIDNIGHT
) -> bool:
    """Whether `ts` falls on one of the simulation's holiday days."""
    if isinstance(sim_or_spec, SimulatedStation):
        spec, start = sim_or_spec.spec, sim_or_spec.start
    else:
        spec = sim_or_spec
    return int((ts - start) // 86400.0) in spec.holidays


def is_peak(spec: StationSpec, ts: float) -> bool:
    """Within one standard deviation of a peak's centre (local time)."""
    hour = ((ts - EPOCH_CST_MIDNIGHT) % 86400.0) / 3600.0
    return any(abs(hour - p.hour) <= p.width_h for p in spec.peaks)


def simulate(
    spec: StationSpec,
    days: int,
    seed: int,
    faults: Faults = Faults(),
    start: float = EPOCH_CST_MIDNIGHT,
) -> SimulatedStation:
    rng = random.Random(seed)
    out = SimulatedStation(spec, start, days)
    arrivals = _arrivals(spec, days, start, rng)
    grades = [g for g, _ in spec.grade_mix]
    weights = [w for _, w in spec.grade_mix]
    fuel_rng = random.Random(seed * 7919 + 1)  # diesel factors and nozzle choices: not the main stream
    seqs: dict[tuple[int, int], int] = {}
    states: dict[tuple[int, int], NozzleState] = {}

    def emit(pos: int, noz: int, state: NozzleState, ts: float) -> None:
        key = (pos, noz)
        seqs[key] = seqs.get(key, 0) + 1
        states[key] = state
        out.events.append(NozzleEvent(spec.station_id, pos, noz, state, ts, seqs[key]))

    layout = {p.number: p for p in spec.positions}
    for p in spec.positions:
        for noz in sorted(p.nozzle_grades):
            emit(p.number, noz, NozzleState.IDLE, start)
    free: set[int] = set(layout)
    queue: list[tuple[float, str]] = []  # FIFO of (arrival, grade)
    heap: list[tuple[float, int, str, int]] = []  # (time, order, kind, position or arrival index)
    order = 0
    for i, t in enumerate(arrivals):
        heap.append((t, order, "arrive", i))
        order += 1
    end = start + days * 86400.0
    t = start + spec.heartbeat_s
    while t < end:
        heap.append((t, order, "beat", 0))
        order += 1
        t += spec.heartbeat_s
    if spec.reports_every_s:
        t = start + spec.reports_every_s
        while t < end:
            heap.append((t, order, "report", 0))
            order += 1
            t += spec.reports_every_s
    heapq.heapify(heap)
    arrival_grade = [rng.choices(grades, weights)[0] for _ in arrivals]
    pending: list[tuple[int, int, NozzleState]] = []

    def give(pos: int, arrival: float, grade: str, now: float) -> None:
        nonlocal order
        free.discard(pos)
        out.vehicles.append(Vehicle(arrival, grade, pos, now))
        nozzles = [n for n, g in sorted(layout[pos].nozzle_grades.items()) if g == grade]
        noz = nozzles[0] if len(nozzles) == 1 else fuel_rng.choice(nozzles)
        t1 = now + rng.uniform(*spec.drive_in_s)
        t2 = t1 + rng.uniform(*spec.authorize_s)
        t3 = t2 + rng.uniform(*spec.start_flow_s)
        fill = spec.fuel_median_s * math.exp(spec.fuel_sigma * rng.gauss(0, 1))
        if grade == "0" and spec.diesel_factor != (1.0, 1.0):
            fill *= fuel_rng.uniform(*spec.diesel_factor)
        t4 = t3 + fill
        t5 = t4 + spec.pay_median_s * math.exp(spec.pay_sigma * rng.gauss(0, 1))
        for state, ts in (
            (NozzleState.CALLING, t1),
            (NozzleState.AUTHORIZED, t2),
            (NozzleState.FUELING, t3),
            (NozzleState.COMPLETED, t4),
            (NozzleState.IDLE, t5),
        ):
            pending.append((pos, noz, state))
            heapq.heappush(heap, (ts, order, "nozzle", len(pending) - 1))
            order += 1
        heapq.heappush(heap, (t5, order, "free", pos))
        order += 1

    while heap:
        now, _, kind, ref = heapq.heappop(heap)
        if kind == "arrive":
            grade = arrival_grade[ref]
            options = sorted(p for p in free if grade in layout[p].grades)
            if options:
                give(rng.choice(options), now, grade, now)
            else:
                queue.append((now, grade))
        elif kind == "free":
            free.add(ref)
            for k, (arrival, grade) in enumerate(queue):
                if grade in layout[ref].grades:
                    del queue[k]
                    give(ref, arrival, grade, now)
                    break
        elif kind == "nozzle":
            emit(*pending[ref], now)
        elif kind == "beat":
            for p in spec.positions:
                for noz in sorted(p.nozzle_grades) if spec.beat_every_nozzle else [min(p.nozzle_grades)]:
                    emit(p.number, noz, states[(p.number, noz)], now)
        else:
            out.reports.append(WaitingReport(spec.station_id, len(queue), now))
    out.deliveries = _deliver(out.events, out.reports, faults, rng)
    return out


def _arrivals(spec: StationSpec, days: int, start: float, rng: random.Random) -> list[float]:
    """Thinning: candidate arrivals at the maximum rate, kept with probability rate(t) / max."""
    out: list[float] = []
    top = max(rate_at(spec, h / 10) for h in range(240)) * (1 + spec.day_jitter)
    for d in range(days):
        scale = 1.0 + rng.uniform(-spec.day_jitter, spec.day_jitter)
        peak_f, base_f = 1.0, 1.0
        if d in spec.holidays:
            peak_f, base_f = rng.uniform(*spec.holiday_peak_factor), spec.holiday_base_factor
        day_top = top * max(peak_f, base_f)
        t = start + d * 86400.0
        day_end = t + 86400.0
        while True:
            t += rng.expovariate(day_top / 3600.0)
            if t >= day_end:
                break
            hour = (t - start - d * 86400.0) / 3600.0
            if rng.random() * day_top < scale * rate_at(spec, hour, peak_f, base_f):
                out.append(t)
    return out


def _deliver(
    events: Sequence[NozzleEvent], reports: Sequence[WaitingReport], faults: Faults, rng: random.Random
) -> list[Delivery]:
    out: list[Delivery] = []
    items: list[NozzleEvent | WaitingReport] = [*events, *reports]
    for item in items:
        if rng.random() < faults.drop:
            continue
        lag = rng.uniform(0.2, 2.0)
        if rng.random() < faults.delay:
            lag += rng.uniform(faults.delay_min_s, faults.delay_max_s)
        out.append(Delivery(item.ts + lag, item))
        if rng.random() < faults.repeat:
            out.append(Delivery(item.ts + lag + rng.uniform(1.0, 30.0), item))
    out.sort(key=lambda d: d.at)
    return out


def standard_stations() -> list[StationSpec]:
    """The evaluation's stations: small and large, with and without queue reports."""
    p = PositionLayout
    small = (
        p(1, {1: "92", 2: "95"}),
        p(2, {1: "92", 2: "95"}),
        p(3, {1: "92", 2: "95", 3: "98"}),
        p(4, {1: "0", 2: "92"}),
    )
    large = (
        *(p(n, {1: "92", 2: "95"}) for n in range(1, 5)),
        p(5, {1: "92", 2: "95", 3: "98"}),
        p(6, {1: "92", 2: "95", 3: "98"}),
        p(7, {1: "0", 2: "92"}),
        p(8, {1: "0"}),
    )
    return [
        StationSpec(9001, small, day_rate_per_h=14.0, peaks=(Peak(8.0, 0.75, 22.0), Peak(18.0, 1.0, 26.0))),
        StationSpec(
            9002,
            small,
            day_rate_per_h=14.0,
            peaks=(Peak(8.0, 0.75, 22.0), Peak(18.0, 1.0, 26.0)),
            reports_every_s=60.0,
        ),
        StationSpec(9003, large, day_rate_per_h=30.0, peaks=(Peak(8.0, 0.75, 45.0), Peak(18.0, 1.0, 55.0))),
        StationSpec(
            9004,
            large,
            day_rate_per_h=30.0,
            peaks=(Peak(8.0, 0.75, 45.0), Peak(18.0, 1.0, 55.0)),
            reports_every_s=60.0,
        ),
    ]


# 2026-09-21 00:00 China Standard Time, a Monday: three working days to learn from, Thursday 24 an ordinary
# day, Friday 25 the first day of the Mid-Autumn holiday (State Council notice for 2026)
HOLIDAY_RUN_START = 1789920000.0
HARD_FAULTS = Faults(drop=0.02, repeat=0.02, delay=0.02, delay_min_s=3.0, delay_max_s=45.0)


def holiday_stations(holidays: frozenset[int] = frozenset({4})) -> list[StationSpec]:
    """The harder evaluation's stations (day 4 from the start a holiday by default): other layouts than
    standard_stations' (3, 5 and 8 positions, two nozzles of one grade at some), diesel fills 1.25-1.6x
    longer, heartbeats from every nozzle, a large busy station; every other one counts its queue."""
    p = PositionLayout
    three = (
        p(1, {1: "92", 2: "92", 3: "95"}),
        p(2, {1: "92", 2: "95", 3: "98"}),
        p(3, {1: "0", 2: "0", 3: "92"}),
    )
    five = (
        p(1, {1: "92", 2: "95"}),
        p(2, {1: "92", 2: "92", 3: "95"}),
        p(3, {1: "92", 2: "95", 3: "98"}),
        p(4, {1: "95", 2: "98"}),
        p(5, {1: "0", 2: "92"}),
    )
    eight = (
        *(p(n, {1: "92", 2: "92", 3: "95"}) for n in range(1, 4)),
        p(4, {1: "92", 2: "95"}),
        p(5, {1: "92", 2: "95", 3: "98"}),
        p(6, {1: "95", 2: "98"}),
        p(7, {1: "0", 2: "0", 3: "92"}),
        p(8, {1: "0"}),
    )

    def hard(spec: StationSpec) -> StationSpec:
        return dataclasses.replace(spec, holidays=holidays, diesel_factor=(1.25, 1.6), beat_every_nozzle=True)

    # ordinary peaks of 1-2 min at the busiest; holidays (peaks x 2-3) 4-13 min on average, up to ~40 min
    small_peaks = (Peak(8.0, 0.75, 11.0), Peak(18.0, 1.0, 14.0))
    mid_peaks = (Peak(8.0, 0.75, 18.0), Peak(18.0, 1.0, 21.0))
    large_peaks = (Peak(8.0, 0.75, 32.0), Peak(18.0, 1.0, 38.0))
    reports = 60.0
    return [
        hard(StationSpec(9101, three, day_rate_per_h=7.0, peaks=small_peaks)),
        hard(StationSpec(9102, three, day_rate_per_h=7.0, peaks=small_peaks, reports_every_s=reports)),
        hard(StationSpec(9103, five, day_rate_per_h=12.5, peaks=mid_peaks)),
        hard(StationSpec(9104, five, day_rate_per_h=12.5, peaks=mid_peaks, reports_every_s=reports)),
        hard(StationSpec(9105, eight, day_rate_per_h=22.0, peaks=large_peaks)),
        hard(StationSpec(9106, eight, day_rate_per_h=22.0, peaks=large_peaks, reports_every_s=reports)),
    ]
