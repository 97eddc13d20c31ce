"""What the book learns per station, as per-day aggregates (bounded memory, event time).

From each finished day of sessions: the log-normal fit of occupied durations (n, sum and sum of squares
of log seconds), session starts per half hour (the arrival rate by time of day), the turnover gap (how
soon a position that frees up is taken again when cars wait) and the grade mix. A query on day D uses
only the `history_days` days before D, so the model is a function of event time.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from occupancy.events import NozzleState
from occupancy.timeline import Session

DAY_S = 86400.0
BUCKET_S = 1800.0
BUCKETS = int(DAY_S / BUCKET_S)
FAST_GAP_S = 150.0  # turnover gaps are histogrammed up to this (5 s bins) to find the retake threshold
GAP_BIN_S = 5.0
GAP_BINS = int(FAST_GAP_S / GAP_BIN_S)
MAX_SESSION_S = 3600.0  # longer "sessions" are telemetry faults and are not learned from

# Priors used until a station has a finished day of history.
PRIOR_MU = math.log(300.0)
PRIOR_SIGMA = 0.5
PRIOR_GAP_S = 25.0
PRIOR_RETAKE_S = 45.0
PRIOR_RATE_PER_POSITION_H = 4.0
# phases of a transaction (keyed by the state it is in): lifted/authorised, fueling, completed (paying)
PHASES = (NozzleState.CALLING, NozzleState.FUELING, NozzleState.COMPLETED)
PRIOR_PHASES = {
    NozzleState.CALLING: (math.log(15.0), 0.6),
    NozzleState.FUELING: (math.log(150.0), 0.5),
    NozzleState.COMPLETED: (math.log(75.0), 0.6),
}


def day_of(ts: float, utc_offset_s: float) -> int:
    return int((ts + utc_offset_s) // DAY_S)


def bucket_of(ts: float, utc_offset_s: float) -> int:
    return int(((ts + utc_offset_s) % DAY_S) // BUCKET_S)


@dataclass(slots=True)
class DaySummary:
    n: int = 0
    sum_log: float = 0.0
    sum_log2: float = 0.0
    starts: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    gaps: list[int] = field(default_factory=lambda: [0] * GAP_BINS)
    grades: dict[str, int] = field(default_factory=dict)
    phases: dict[NozzleState, tuple[int, float, float]] = field(default_factory=dict)  # n, sum, sum2 of logs


def add_phase(out: DaySummary, state: NozzleState, seconds: float) -> None:
    if 1.0 <= seconds <= MAX_SESSION_S:
        x = math.log(seconds)
        n, s1, s2 = out.phases.get(state, (0, 0.0, 0.0))
        out.phases[state] = (n + 1, s1 + x, s2 + x * x)


def add_session(out: DaySummary, s: Session, utc_offset_s: float) -> None:
    """Count a session into the summary of the day it started on; its duration only when it ended by the
    end of that day."""
    out.starts[bucket_of(s.start, utc_offset_s)] += 1
    if s.grade is not None:
        out.grades[s.grade] = out.grades.get(s.grade, 0) + 1
    if s.gap_before is not None and 0.0 <= s.gap_before < FAST_GAP_S:
        out.gaps[int(s.gap_before // GAP_BIN_S)] += 1
    if s.end is not None and 5.0 <= s.end - s.start <= MAX_SESSION_S:
        day_end = (day_of(s.start, utc_offset_s) + 1) * DAY_S - utc_offset_s
        if s.end <= day_end:
            x = math.log(s.end - s.start)
            out.n += 1
            out.sum_log += x
            out.sum_log2 += x * x


def summarise(
    sessions: Iterable[Session], phases: Iterable[tuple[NozzleState, float]], utc_offset_s: float
) -> DaySummary:
    out = DaySummary()
    for state, seconds in phases:
        add_phase(out, state, seconds)
    for s in sessions:
        add_session(out, s, utc_offset_s)
    return out


_HEAD = struct.Struct(f"<Idd{BUCKETS}H{GAP_BINS}H")
_PHASE = struct.Struct("<Idd")
_GRADE = struct.Struct("<BI")
_PHASE_CODES = {state: code for code, state in enumerate(PHASES)}


def pack(d: DaySummary) -> bytes:
    """A finished day in about 250 bytes (the summaries of 14 days for every station in China stay in a
    few hundred MB per worker); `unpack` gives it back exactly. Counts saturate at 65,535 per bucket."""
    counts = (min(c, 65535) for c in (*d.starts, *d.gaps))
    parts = [_HEAD.pack(d.n, d.sum_log, d.sum_log2, *counts)]
    phases = [(state, d.phases[state]) for state in PHASES if state in d.phases]
    parts.append(bytes([len(phases)]))
    for state, (n, s1, s2) in phases:
        parts.append(bytes([_PHASE_CODES[state]]) + _PHASE.pack(n, s1, s2))
    grades = sorted(d.grades.items())
    parts.append(bytes([len(grades)]))
    for grade, count in grades:
        name = grade.encode()
        parts.append(_GRADE.pack(len(name), count) + name)
    return b"".join(parts)


def unpack(data: bytes) -> DaySummary:
    head = _HEAD.unpack_from(data)
    out = DaySummary(head[0], head[1], head[2], list(head[3 : 3 + BUCKETS]), list(head[3 + BUCKETS :]))
    at = _HEAD.size
    for _ in range(data[at]):
        code = data[at + 1]
        out.phases[PHASES[code]] = _PHASE.unpack_from(data, at + 2)
        at += 1 + _PHASE.size
    at += 1
    for _ in range(data[at]):
        length, count = _GRADE.unpack_from(data, at + 1)
        start = at + 1 + _GRADE.size
        out.grades[data[start : start + length].decode()] = count
        at += _GRADE.size + length
    return out


@dataclass(frozen=True, slots=True)
class StationModel:
    """The learned model a query on one day uses."""

    mu: float  # log-normal session duration (seconds)
    sigma: float
    gap_s: float  # turnover: position freed -> next vehicle's first event, when cars wait
    retake_s: float  # a session starting within this of the position freeing took a waiting vehicle
    rate_per_h: tuple[float, ...]  # arrivals per hour in each half-hour bucket (all grades)
    grade_mix: dict[str, float]
    days: int  # finished days learned from (0: priors)
    phases: dict[NozzleState, tuple[float, float]] = field(default_factory=lambda: dict(PRIOR_PHASES))
    retake_gaps: tuple[float, ...] = ()  # share of quick retakes per GAP_BIN_S bin (background removed)

    def still_coming(self, elapsed: float) -> float:
        """Probability that a waiting vehicle given a position `elapsed` seconds ago has not yet lifted
        its nozzle (the survival of the retake gap)."""
        bins = self.retake_gaps
        if not bins:
            return min(1.0, max(0.0, (self.retake_s - elapsed) / max(1.0, self.retake_s - 10.0)))
        k = int(elapsed // GAP_BIN_S)
        if k >= len(bins):
            return 0.0
        part = bins[k] * (1.0 - (elapsed - k * GAP_BIN_S) / GAP_BIN_S)
        return min(1.0, part + sum(bins[k + 1 :]))

    def rate_at(self, ts: float, utc_offset_s: float) -> float:
        return self.rate_per_h[bucket_of(ts, utc_offset_s)]

    def arrivals_between(self, a: float, b: float, utc_offset_s: float) -> float:
        """Expected arrivals in [a, b] (piecewise-constant rate)."""
        total = 0.0
        t = a
        while t < b:
            edge = (math.floor((t + utc_offset_s) / BUCKET_S) + 1) * BUCKET_S - utc_offset_s
            step = min(b, edge) - t
            total += self.rate_at(t, utc_offset_s) * step / 3600.0
            t += step
        return total

    @property
    def median_s(self) -> float:
        return math.exp(self.mu)


def build_model(days: Sequence[DaySummary], n_positions: int, grades: Iterable[str]) -> StationModel:
    mu, sigma = _lognormal(
        sum(d.n for d in days),
        sum(d.sum_log for d in days),
        sum(d.sum_log2 for d in days),
        (PRIOR_MU, PRIOR_SIGMA),
    )
    gap, retake, shares = turnover([sum(d.gaps[b] for d in days) for b in range(GAP_BINS)])
    if days:
        rate = tuple(sum(d.starts[b] for d in days) / len(days) * (3600.0 / BUCKET_S) for b in range(BUCKETS))
    else:
        rate = tuple([PRIOR_RATE_PER_POSITION_H * n_positions] * BUCKETS)
    counts: dict[str, int] = {}
    for d in days:
        for g, c in d.grades.items():
            counts[g] = counts.get(g, 0) + c
    total = sum(counts.values())
    if total:
        mix = {g: c / total for g, c in counts.items()}
    else:
        gs = sorted(set(grades))
        mix = {g: 1.0 / len(gs) for g in gs} if gs else {}
    phases = {}
    for state in PHASES:
        stats = [d.phases[state] for d in days if state in d.phases]
        phases[state] = _lognormal(
            sum(x[0] for x in stats), sum(x[1] for x in stats), sum(x[2] for x in stats), PRIOR_PHASES[state]
        )
    return StationModel(mu, sigma, gap, retake, rate, mix, len(days), phases, shares)


def _lognormal(n: int, s1: float, s2: float, prior: tuple[float, float]) -> tuple[float, float]:
    if n < 20:
        return prior
    mu = s1 / n
    return mu, max(0.05, math.sqrt(max(0.0, s2 / n - mu * mu)))


def turnover(hist: Sequence[int]) -> tuple[float, float, tuple[float, ...]]:
    """(mean retake gap, retake threshold, share of retakes per bin) from a histogram of free gaps before
    sessions. Retakes by waiting vehicles form a peak at short gaps (drive-in time) over the flatter
    background of vehicles arriving at a free position; the threshold is where the peak falls to twice
    the background."""
    if sum(hist) < 30:
        return PRIOR_GAP_S, PRIOR_RETAKE_S, ()
    tail = hist[len(hist) * 3 // 5 :]
    background = sum(tail) / len(tail)
    top = max(range(len(hist)), key=lambda b: hist[b])
    end = top
    while end + 1 < len(hist) and hist[end + 1] > 2 * background + 1:
        end += 1
    retake = min(120.0, max(20.0, (end + 1) * GAP_BIN_S))
    inside = hist[: end + 1]
    gap = sum((b + 0.5) * GAP_BIN_S * c for b, c in enumerate(inside)) / max(1, sum(inside))
    above = [max(0.0, c - background) for c in inside]
    total = sum(above)
    return gap, retake, tuple(c / total for c in above) if total > 0 else ()
