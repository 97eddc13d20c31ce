"""The per-process occupancy book: live position state and wait estimates, in event time, without I/O.

Each worker holds one. The ingest tail feeds it accepted items (`apply`, any order, idempotent); routes ask
it for a station's occupancy or the wait for a grade at an event time `as_of` (only items with
ts <= as_of count, so a replay of a recent moment gives the same answers).

Memory per station does not grow with time: events are read into per-day summaries (occupancy/learning.py)
as they become `fold_lag_s` old (a later event of an older moment still counts for live answers, not
for learning), and only the last `raw_keep_s` of raw events are kept — what the estimator reads (an hour
of sessions and their context). Finished days are packed into a few hundred bytes each.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from occupancy.estimator import SAMPLES, Distribution, Slot, erlang_wait, seed_for, simulate_wait
from occupancy.events import NozzleEvent, NozzleState, PositionClaim, PositionLayout, WaitingReport
from occupancy.forecast import ROWS as FORECAST_ROWS
from occupancy.forecast import ForecastSlot, forecast_waits
from occupancy.intensity import Intensity, busy_day, calendar_prior, day_intensity
from occupancy.learning import (
    DAY_S,
    DaySummary,
    StationModel,
    add_phase,
    add_session,
    build_model,
    day_of,
    pack,
    unpack,
)
from occupancy.particles import QueueFilter, Retake, run_filter
from occupancy.queueing import FreeWindow
from occupancy.timeline import (
    CONTEXT_S,
    STATE_OF,
    NozzleLog,
    PositionFold,
    PositionState,
    Session,
    position_state,
    sessions,
)

CHINA_UTC_OFFSET_S = 8 * 3600.0
LOOKBACK_S = 3600.0  # how far back the queue filter looks for the last time the queue was empty
REPORT_VALID_S = 300.0  # a waiting-vehicles report older than this is not used
QMAX_REPORT = 1 << 30
STUCK_AFTER_S = 1800.0  # an occupied nozzle silent this long lost its closing event
FOLD_LAG_S = 600.0  # events this much older than a station's latest are read into its day summaries
FOLD_EVERY_S = 300.0  # ... in steps of this much event time
FORGET_EVERY_S = 1800.0  # old raw events and days are dropped in steps of this much event time
# The sampled 10-90 band leaves out what the model does not know (its learned rates from a few days, the
# phases' shapes): stretched about the median by WIDEN (measured: covers 70-90% of drivers who waited),
# by BUSY_WIDEN on a busy day at a station that sends no queue counts (the queue unseen, the day's factor
# uncertain).
WIDEN = 1.3
BUSY_WIDEN = 2.0
RAW_KEEP_S = LOOKBACK_S + CONTEXT_S + FOLD_LAG_S + 300.0  # raw events kept behind the latest


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
    suggested_position: int | None  # a free suitable position expected still free on arrival, if any


@dataclass(slots=True)
class _Station:
    layout: dict[int, PositionLayout]
    nozzles: dict[tuple[int, int], NozzleLog]
    by_position: dict[int, list[tuple[str, NozzleLog]]]
    reports: list[tuple[float, int]] = field(default_factory=list)
    claims: dict[int, list[tuple[float, str]]] = field(default_factory=dict)
    first_day: int | None = None
    latest: float = float("-inf")  # latest event time applied
    folded_to: float = float("-inf")  # events before this were read into the day summaries
    forgot_at: float = float("-inf")
    version: int = 0
    days: dict[int, DaySummary | bytes] = field(default_factory=dict)  # finished days packed
    folds: dict[int, PositionFold] = field(default_factory=dict)
    models: dict[int, StationModel] = field(default_factory=dict)


class OccupancyBook:
    def __init__(
        self,
        *,
        stale_after_s: float = 300.0,
        history_days: int = 14,
        raw_keep_s: float = RAW_KEEP_S,
        fold_lag_s: float = FOLD_LAG_S,
        utc_offset_s: float = CHINA_UTC_OFFSET_S,
    ) -> None:
        if raw_keep_s < fold_lag_s + LOOKBACK_S + CONTEXT_S:
            raise ValueError("raw_keep_s must cover fold_lag_s and the estimator's look-back")
        self.stale_after_s = stale_after_s
        self.history_days = history_days
        self.raw_keep_s = raw_keep_s
        self.fold_lag_s = fold_lag_s
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
            st.latest, st.folded_to, st.forgot_at, st.days = (
                old.latest,
                old.folded_to,
                old.forgot_at,
                old.days,
            )
            st.version = old.version + 1
            st.folds = {n: f for n, f in old.folds.items() if n in layout}
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
        due: set[int] = set()
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
            day = day_of(item.ts, self.utc_offset_s)
            if st.first_day is None or day < st.first_day:
                st.first_day = day
            if item.ts > st.latest:
                st.latest = item.ts
                if item.ts - self.fold_lag_s >= st.folded_to + FOLD_EVERY_S:
                    due.add(item.station_id)
        for station_id in due:  # after the whole batch: a batch comes grouped by nozzle, not by time
            st = stations[station_id]
            self._fold(st, st.latest - self.fold_lag_s)

    def _fold(self, st: _Station, cut: float) -> None:
        """Read every event before `cut` not read yet into the day summaries, then forget what is older
        than the estimator needs."""
        touched: set[int] = set()
        utc = self.utc_offset_s
        closed: list[Session] = []
        phases: list[tuple[float, int, int, NozzleState, float]] = []
        for pos, nozzles in st.by_position.items():
            merged: list[tuple[float, int, int, NozzleState, str]] = []
            for n, (grade, log) in enumerate(nozzles):
                seqs, tss, states = log.seqs, log.tss, log.states
                lo = bisect_right(seqs, log.folded_seq)
                hi = lo
                while hi < len(tss) and tss[hi] < cut:
                    hi += 1
                if hi == lo:
                    continue
                feed = log.phase.feed
                for k in range(lo, hi):
                    t = tss[k]
                    state = STATE_OF[states[k]]
                    found = feed(seqs[k], state, t)
                    if found is not None:
                        phases.append((t, pos, n, found[0], found[1]))
                    merged.append((t, n, k, state, grade))
                log.folded_seq = seqs[hi - 1]
            if not merged:
                continue
            merged.sort()
            fold = st.folds.get(pos)
            if fold is None:
                fold = st.folds[pos] = PositionFold(pos, STUCK_AFTER_S)
            for t, n, _k, state, grade in merged:
                if t >= fold.last_ts:  # one that came later than the fold lag is live only, not learned
                    fold.feed(t, n, state, grade, closed)
        # Sums of floats in one order whatever the batching (events are read in time order across folds).
        phases.sort(key=lambda p: p[:3])
        for t, _pos, _n, state, seconds in phases:
            d = int((t + utc) // DAY_S)
            add_phase(self._open_day(st, d), state, seconds)
            touched.add(d)
        closed.sort(key=lambda s: (s.end if s.end is not None else s.start, s.position, s.start))
        for s in closed:
            d = day_of(s.start, utc)
            add_session(self._open_day(st, d), s, utc)
            touched.add(d)
        st.folded_to = cut
        if touched and st.models:
            oldest = min(touched)
            for d in [d for d in st.models if d > oldest]:
                del st.models[d]
        keep_from = st.latest - self.raw_keep_s
        for log in st.nozzles.values():
            log.prune_before(keep_from)
            log.coalesce_before(cut)
        if cut >= st.forgot_at + FORGET_EVERY_S:
            st.forgot_at = cut
            self._forget(st, cut)

    def _open_day(self, st: _Station, d: int) -> DaySummary:
        found = st.days.get(d)
        if found is None:
            found = st.days[d] = DaySummary()
        elif isinstance(found, bytes):  # a session of a packed day closed late
            found = st.days[d] = unpack(found)
        return found

    def _forget(self, st: _Station, cut: float) -> None:
        today = day_of(st.latest, self.utc_offset_s)
        for d, summary in list(st.days.items()):
            if d < today - self.history_days:
                del st.days[d]
            elif isinstance(summary, DaySummary) and d < day_of(cut, self.utc_offset_s):
                st.days[d] = pack(summary)
        for d in [d for d in st.models if d < today - 1]:
            del st.models[d]
        keep_from = st.latest - self.raw_keep_s
        if st.reports and st.reports[0][0] < keep_from - REPORT_VALID_S:
            st.reports = [r for r in st.reports if r[0] >= keep_from - REPORT_VALID_S]
        for pos, claims in st.claims.items():
            if claims and claims[0][0] < keep_from - 2 * DAY_S:
                st.claims[pos] = [c for c in claims if c[0] >= keep_from - 2 * DAY_S]

    def reported_stations(self, after: int, reported_since: float | None, limit: int) -> list[int]:
        """Up to `limit` station ids above `after`, in id order, of stations that reported anything, and
        (with `reported_since`) whose latest event is later than it: the stations whose waits moved."""
        found = (
            station_id
            for station_id, st in self._stations.items()
            if station_id > after
            and st.first_day is not None
            and (reported_since is None or st.latest > reported_since)
        )
        return heapq.nsmallest(limit, found)

    def answerable_from(self, station_id: int) -> float | None:
        """The earliest `as_of` the book answers exactly for the station (its raw events cover the
        estimator's look-back and context from there on); None: every moment (nothing dropped yet)."""
        st = self._stations.get(station_id)
        if st is None or all(log.pruned_seq < 0 for log in st.nozzles.values()):
            return None
        return st.latest - self.raw_keep_s + LOOKBACK_S + CONTEXT_S

    def model(self, station_id: int, as_of: float) -> StationModel | None:
        """What the book has learned for this station, as used on the day of `as_of`."""
        st = self._stations.get(station_id)
        return None if st is None else self._model(st, as_of)

    def _model(self, st: _Station, as_of: float) -> StationModel:
        day = day_of(as_of, self.utc_offset_s)
        found = st.models.get(day)
        if found is None:
            first = st.first_day if st.first_day is not None else day
            days: list[DaySummary] = []
            for d in range(max(first, day - self.history_days), day):
                summary = st.days.get(d)
                if summary is not None:
                    days.append(unpack(summary) if isinstance(summary, bytes) else summary)
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
        return log.state_at(i) if i >= 0 else None

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
            rate *= calendar_prior(as_of, self.utc_offset_s).center
            return make(erlang_wait(model, rate * share, len(serving)), 0.0, "history_only", None)
        free = [v for v in serving if v.status == "free"]
        suggested = min(free, key=lambda v: (v.since or 0.0, v.number)).number if free else None
        basis = "reported_queue" if occ.waiting_vehicles is not None else "inferred_queue"
        if any(v.since is not None and as_of - v.since > model.retake_s for v in free):
            # a suitable position has stood free longer than a turnover: nobody who could use it waits
            return make(Distribution(0.0, 0.0, 0.0), 0.0, basis, suggested)
        seed = seed_for(station_id, grade, as_of)
        intensity = self.intensity(station_id, as_of) or calendar_prior(as_of, self.utc_offset_s)
        slots, queue = self._queue_and_slots(st, occ, states, model, as_of, seed, intensity)
        dist = simulate_wait(model, slots, grade, queue.sample(SAMPLES), queue.grades, seed)
        unseen = busy_day(intensity) and occ.waiting_vehicles is None  # and the day's factor uncertain
        dist = dist.widened(BUSY_WIDEN if unseen else WIDEN)
        ahead = queue.mean_length()
        rate *= queue.mean_scale()
        if ahead >= len(free):  # the vehicles expected ahead take the free positions first
            suggested = None
        return make(dist, ahead, basis, suggested)

    def forecast(self, station_id: int, grade: str, as_of: float, hours: int) -> list[ForecastSlot] | None:
        """The wait for `grade` at each half hour ahead (occupancy/forecast.py); None when the station has no
        layout or no position serves the grade. A stale station starts from free positions and no queue."""
        st = self._stations.get(station_id)
        if st is None or not any(grade in p.grades for p in st.layout.values()):
            return None
        states = self._states(st, as_of)
        occ = self._occupancy(station_id, st, as_of, states)
        model = self._model(st, as_of)
        seed = seed_for(station_id, grade, as_of)
        intensity = self.intensity(station_id, as_of) or calendar_prior(as_of, self.utc_offset_s)
        if occ.stale:
            slots = [Slot(p.number, p.grades, "free", 0.0) for p in st.layout.values()]
            queues, grades = np.full((FORECAST_ROWS, 1), -1, dtype=np.int64), sorted(model.grade_mix)
            scales = np.full(FORECAST_ROWS, intensity.center)
        else:
            slots, queue = self._queue_and_slots(st, occ, states, model, as_of, seed, intensity)
            queues, scales = queue.sample_with_scales(FORECAST_ROWS)
            grades = queue.grades
        return forecast_waits(
            model, slots, grade, queues, grades, scales, as_of, hours, self.utc_offset_s, seed, WIDEN
        )

    def intensity(self, station_id: int, as_of: float) -> Intensity | None:
        """Today's arrivals against the learned rate, as far as the calendar and the day's starts say."""
        st = self._stations.get(station_id)
        if st is None:
            return None
        summary = st.days.get(day_of(as_of, self.utc_offset_s))
        today = unpack(summary) if isinstance(summary, bytes) else summary
        return day_intensity(self._model(st, as_of), today, as_of, self.utc_offset_s)

    def _queue_and_slots(
        self,
        st: _Station,
        occ: StationOccupancy,
        states: dict[int, PositionState],
        model: StationModel,
        as_of: float,
        seed: int,
        intensity: Intensity,
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
            model,
            self.utc_offset_s,
            as_of,
            starts,
            windows,
            reports,
            window,
            seed,
            just_freed,
            intensity,
            len(st.layout),
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
