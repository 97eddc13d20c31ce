"""The per-process occupancy book: live position state and wait estimates, in event time, without I/O.

Each worker holds one. The ingest tail feeds it accepted items (`apply`, any order, idempotent); routes ask
it for a station's occupancy or the wait for a grade at an event time `as_of` (only items with
ts <= as_of count, so a replay gives the same answers). Raw events are kept for `raw_days` days per
station; older days survive only as per-day summaries (occupancy/learning.py).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from occupancy.estimator import SAMPLES, Distribution, Slot, erlang_wait, seed_for, simulate_wait
from occupancy.events import NozzleEvent, NozzleState, PositionClaim, PositionLayout, WaitingReport
from occupancy.learning import (
    DAY_S,
    DaySummary,
    StationModel,
    build_model,
    day_of,
    summarise,
)
from occupancy.particles import QueueFilter, Retake, run_filter
from occupancy.queueing import FreeWindow
from occupancy.timeline import NozzleLog, PositionState, position_state, sessions

CHINA_UTC_OFFSET_S = 8 * 3600.0
LOOKBACK_S = 3600.0  # how far back the queue filter looks for the last time the queue was empty
REPORT_VALID_S = 300.0  # a waiting-vehicles report older than this is not used
QMAX_REPORT = 1 << 30
STUCK_AFTER_S = 1800.0  # an occupied nozzle silent this long lost its closing event


@dataclass(frozen=True, slots=True)
class PositionView:
    number: int
    grades: frozenset[str]
    status: str  # "free" | "occupied" | "claimed" | "offline" | "unknown" (unknown = station stale)
    nozzle_state: NozzleState | None  # the most advanced state among its nozzles (None if never reported)
    since: float | None  # event time the current status began
    claimed_by: str | None  # order id holding it (status "claimed")


@dataclass(frozen=True, slots=True)
class StationOccupancy:
    station_id: int
    as_of: float
    last_report: float | None  # latest event/report time <= as_of
    stale: bool  # silent for longer than stale_after_s before as_of (or never reported)
    waiting_vehicles: int | None  # latest waiting report <= as_of that is still recent, else None
    positions: list[PositionView]  # by number


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    station_id: int
    grade: str
    as_of: float
    minutes: float  # expected wait for a vehicle arriving at as_of
    p10_minutes: float
    p90_minutes: float
    busy_positions: int  # suitable (serve `grade`) and not free at as_of
    total_positions: int  # suitable positions
    arrival_rate_per_hour: float  # the arrival rate the model assumed at as_of
    queue_ahead: float  # expected vehicles waiting ahead (reported or inferred)
    basis: str  # "reported_queue" | "inferred_queue" | "history_only" (stale)
    stale: bool
    last_report: float | None
    suggested_position: int | None  # a free suitable position to drive to, if any


@dataclass(slots=True)
class _Station:
    layout: dict[int, PositionLayout]
    nozzles: dict[tuple[int, int], NozzleLog]
    by_position: dict[int, list[tuple[str, NozzleLog]]]
    reports: list[tuple[float, int]] = field(default_factory=list)
    claims: dict[int, list[tuple[float, str]]] = field(default_factory=dict)
    first_day: int | None = None
    next_edge: float = float("-inf")  # start of the day after the latest event's day
    first_edge: float = float("-inf")  # start of the earliest day seen
    version: int = 0
    days: dict[int, DaySummary] = field(default_factory=dict)
    models: dict[int, StationModel] = field(default_factory=dict)


class OccupancyBook:
    def __init__(
        self,
        *,
        stale_after_s: float = 300.0,
        history_days: int = 14,
        raw_days: int = 2,
        utc_offset_s: float = CHINA_UTC_OFFSET_S,
    ) -> None:
        self.stale_after_s = stale_after_s
        self.history_days = history_days
        self.raw_days = raw_days
        self.utc_offset_s = utc_offset_s
        self._stations: dict[int, _Station] = {}
        self._wait_cache: dict[tuple[int, str, float, int], tuple[float, bool]] = {}

    # ---- layout and ingest ------------------------------------------------------------------------------
    def set_layout(self, station_id: int, positions: Sequence[PositionLayout]) -> None:
        old = self._stations.get(station_id)
        layout = {p.number: p for p in sorted(positions, key=lambda p: p.number)}
        nozzles = {}
        by_position: dict[int, list[tuple[str, NozzleLog]]] = {}
        for p in layout.values():
            for number, grade in sorted(p.nozzle_grades.items()):
                log = old.nozzles.get((p.number, number)) if old else None
                nozzles[(p.number, number)] = log = log or NozzleLog()
                by_position.setdefault(p.number, []).append((grade, log))
        st = _Station(layout, nozzles, by_position)
        if old is not None:
            st.reports, st.claims, st.first_day = old.reports, old.claims, old.first_day
            st.next_edge, st.first_edge = old.next_edge, old.first_edge
            st.version, st.days = old.version + 1, old.days
        self._stations[station_id] = st

    def has_layout(self, station_id: int) -> bool:
        return station_id in self._stations

    def has_reported(self, station_id: int) -> bool:
        """Whether anything (event, queue report, claim) was ever applied for the station."""
        st = self._stations.get(station_id)
        return st is not None and st.first_day is not None

    def apply(self, items: Iterable[NozzleEvent | WaitingReport | PositionClaim]) -> None:
        """Accepted items in any order (late ones included); the book orders each nozzle by seq.
        Idempotent: an item seen before (same station, position, nozzle, seq; same report/claim) is ignored.
        Items for a station without a layout are ignored (the caller sets layouts first)."""
        stations = self._stations
        for item in items:
            st = stations.get(item.station_id)
            if st is None:
                continue
            if type(item) is NozzleEvent:
                log = st.nozzles.get((item.position, item.nozzle))
                if log is None or not log.add(item.seq, item.ts, item.state):
                    continue
            elif isinstance(item, WaitingReport):
                entry = (item.ts, item.waiting_vehicles)
                i = bisect_right(st.reports, entry)
                if i and st.reports[i - 1] == entry:
                    continue
                st.reports.insert(i, entry)
            elif isinstance(item, PositionClaim):
                claims = st.claims.setdefault(item.position, [])
                claim = (item.ts, item.ref)
                if claim in claims:
                    continue
                insort(claims, claim)
            else:
                continue
            st.version += 1
            if item.ts >= st.next_edge:
                self._roll(st, item.ts)
            elif item.ts < st.first_edge:  # an older day than any seen so far
                st.first_day = day_of(item.ts, self.utc_offset_s)
                st.first_edge = st.first_day * DAY_S - self.utc_offset_s

    def _roll(self, st: _Station, ts: float) -> None:
        """A new day for this station: keep raw events for `raw_days` days, summarise what is dropped."""
        day = day_of(ts, self.utc_offset_s)
        if st.first_day is None:
            st.first_day = day
            st.first_edge = day * DAY_S - self.utc_offset_s
        st.next_edge = (day + 1) * DAY_S - self.utc_offset_s
        keep_from = day - self.raw_days + 1
        for d in range(max(st.first_day, keep_from - self.history_days), keep_from):
            self._summary(st, d)
        cutoff = keep_from * DAY_S - self.utc_offset_s
        for log in st.nozzles.values():
            log.prune_before(cutoff)
        st.reports = [r for r in st.reports if r[0] >= cutoff - REPORT_VALID_S]
        for pos, claims in st.claims.items():
            st.claims[pos] = [c for c in claims if c[0] >= cutoff - 2 * DAY_S]
        for d in [d for d in st.days if d < day - self.history_days]:
            del st.days[d]
        for d in [d for d in st.models if d < day - 1]:
            del st.models[d]

    def _summary(self, st: _Station, d: int) -> DaySummary:
        found = st.days.get(d)
        if found is None:
            start = d * DAY_S - self.utc_offset_s
            found = summarise(
                (
                    s
                    for pos, nz in st.by_position.items()
                    for s in sessions(pos, nz, start, start + DAY_S, STUCK_AFTER_S)
                ),
                (ph for log in st.nozzles.values() for ph in log.phases(start, start + DAY_S)),
                self.utc_offset_s,
            )
            st.days[d] = found
        return found

    def model(self, station_id: int, as_of: float) -> StationModel | None:
        """What the book has learned for this station, as used on the day of `as_of`."""
        st = self._stations.get(station_id)
        return None if st is None else self._model(st, as_of)

    def _model(self, st: _Station, as_of: float) -> StationModel:
        day = day_of(as_of, self.utc_offset_s)
        found = st.models.get(day)
        if found is None:
            first = st.first_day if st.first_day is not None else day
            days = [self._summary(st, d) for d in range(max(first, day - self.history_days), day)]
            grades = {g for p in st.layout.values() for g in p.grades}
            found = build_model([d for d in days if d.n or sum(d.starts)], len(st.layout), grades)
            st.models[day] = found
        return found

    # ---- live state ---------------------------------------------------------------------------------------
    def nozzle_state(self, station_id: int, position: int, nozzle: int, as_of: float) -> NozzleState | None:
        st = self._stations.get(station_id)
        log = st.nozzles.get((position, nozzle)) if st else None
        if log is None:
            return None
        i = log.index_at(as_of)
        return log.states[i] if i >= 0 else None

    def occupancy(self, station_id: int, as_of: float) -> StationOccupancy | None:
        st = self._stations.get(station_id)
        return None if st is None else self._occupancy(station_id, st, as_of)

    def _occupancy(
        self, station_id: int, st: _Station, as_of: float, states: dict[int, PositionState] | None = None
    ) -> StationOccupancy:
        if states is None:
            states = self._states(st, as_of)
        last: float | None = max((s.last_ts for s in states.values() if s.last_ts is not None), default=None)
        i = bisect_right(st.reports, (as_of, float("inf")))
        report = st.reports[i - 1] if i else None
        if report is not None and (last is None or report[0] > last):
            last = report[0]
        stale = last is None or as_of - last > self.stale_after_s
        waiting = report[1] if report is not None and as_of - report[0] <= REPORT_VALID_S else None
        views = []
        for number, p in st.layout.items():
            ps = states.get(number)
            status, since = (ps.status, ps.since) if ps else ("unknown", None)
            claim = self._active_claim(st, number, as_of)
            claimed_by = None
            if claim is not None:
                status, since, claimed_by = "claimed", claim[0], claim[1]
            elif stale or status == "unknown":
                status, since = "unknown", None
            views.append(
                PositionView(number, p.grades, status, ps.nozzle_state if ps else None, since, claimed_by)
            )
        return StationOccupancy(station_id, as_of, last, stale, waiting, views)

    @staticmethod
    def _states(st: _Station, as_of: float) -> dict[int, PositionState]:
        return {n: position_state(nz, as_of, STUCK_AFTER_S) for n, nz in st.by_position.items()}

    def _active_claim(self, st: _Station, position: int, as_of: float) -> tuple[float, str] | None:
        claims = st.claims.get(position)
        if not claims:
            return None
        i = bisect_right(claims, (as_of, "\U0010ffff"))
        if not i:
            return None
        claim = claims[i - 1]
        for _grade, log in st.by_position.get(position, []):
            j = bisect_right(log.tss, claim[0]) if log.monotone else 0
            if any(claim[0] < t <= as_of for t in log.tss[j:]):
                return None
        return claim

    # ---- estimates ----------------------------------------------------------------------------------------
    def wait(self, station_id: int, grade: str, as_of: float) -> WaitEstimate | None:
        """None when the station has no layout or no position serves the grade."""
        st = self._stations.get(station_id)
        if st is None or not any(grade in p.grades for p in st.layout.values()):
            return None
        states = self._states(st, as_of)
        occ = self._occupancy(station_id, st, as_of, states)
        model = self._model(st, as_of)
        rate = model.rate_at(as_of, self.utc_offset_s)
        serving = [v for v in occ.positions if grade in v.grades and v.status != "offline"]
        busy = sum(v.status in ("occupied", "claimed") for v in serving)

        def make(d: Distribution, queue_ahead: float, basis: str, suggested: int | None) -> WaitEstimate:
            return WaitEstimate(
                station_id,
                grade,
                as_of,
                d.mean_s / 60,
                d.p10_s / 60,
                d.p90_s / 60,
                busy,
                len(serving),
                rate,
                queue_ahead,
                basis,
                occ.stale,
                occ.last_report,
                suggested,
            )

        if occ.stale or all(v.status == "unknown" for v in serving):  # nothing live to go on
            share = len(serving) / max(1, len(st.layout))
            return make(erlang_wait(model, rate * share, len(serving)), 0.0, "history_only", None)
        free = [v for v in serving if v.status == "free"]
        suggested = min(free, key=lambda v: (v.since or 0.0, v.number)).number if free else None
        basis = "reported_queue" if occ.waiting_vehicles is not None else "inferred_queue"
        if any(v.since is not None and as_of - v.since > model.retake_s for v in free):
            # a suitable position has stood free longer than a turnover: nobody who could use it waits
            return make(Distribution(0.0, 0.0, 0.0), 0.0, basis, suggested)
        seed = seed_for(station_id, grade, as_of)
        slots, queue = self._queue_and_slots(st, occ, states, model, as_of, seed)
        dist = simulate_wait(model, slots, grade, queue.sample(SAMPLES), queue.grades, seed)
        return make(dist, queue.mean_length(), basis, suggested)

    def _queue_and_slots(
        self,
        st: _Station,
        occ: StationOccupancy,
        states: dict[int, PositionState],
        model: StationModel,
        as_of: float,
        seed: int,
    ) -> tuple[list[Slot], QueueFilter]:
        slots: list[Slot] = []
        for v in occ.positions:
            elapsed = as_of - v.since if v.since is not None else 0.0
            if v.status == "free":
                slots.append(Slot(v.number, v.grades, "free", elapsed))
            elif v.status == "occupied":
                ps = states[v.number]
                phase = as_of - ps.phase_since if ps.phase_since is not None else elapsed
                slots.append(Slot(v.number, v.grades, "busy", elapsed, v.nozzle_state, phase))
            elif v.status == "claimed":
                slots.append(Slot(v.number, v.grades, "claimed", elapsed))
        first = min((log.tss[0] for log in st.nozzles.values() if log.tss), default=as_of)
        window = max(as_of - LOOKBACK_S, first)
        reports = st.reports[
            bisect_right(st.reports, (window, -1)) : bisect_right(st.reports, (as_of, QMAX_REPORT))
        ]
        starts: list[Retake] = []
        windows: list[FreeWindow] = []
        for pos, nz in st.by_position.items():
            grades = st.layout[pos].grades
            for s in sessions(pos, nz, window, as_of, STUCK_AFTER_S):
                starts.append(Retake(s.start, grades, s.grade, s.gap_before))
                if s.gap_before is not None and s.gap_before > model.retake_s:
                    windows.append(FreeWindow(s.start - s.gap_before, s.start - model.gap_s, grades))
        just_freed: list[tuple[frozenset[str], float]] = []
        for v in occ.positions:
            if v.status == "free" and v.since is not None and as_of - v.since > model.retake_s:
                windows.append(FreeWindow(v.since, as_of, v.grades))
            elif v.status == "free" and v.since is not None:
                just_freed.append((v.grades, as_of - v.since))
        return slots, run_filter(
            model, self.utc_offset_s, as_of, starts, windows, reports, window, seed, just_freed
        )

    def wait_minutes(self, station_id: int, grade: str, as_of: float) -> tuple[float, bool] | None:
        """(expected minutes, stale) for list views: cached per (station, grade, as_of, state version), so
        callers that round `as_of` (to the second, say) share answers; equal to wait(...).minutes."""
        st = self._stations.get(station_id)
        if st is None:
            return None
        key = (station_id, grade, as_of, st.version)
        found = self._wait_cache.get(key)
        if found is None:
            est = self.wait(station_id, grade, as_of)
            if est is None:
                return None
            if len(self._wait_cache) > 50_000:
                self._wait_cache.clear()
            found = self._wait_cache[key] = (est.minutes, est.stale)
        return found
