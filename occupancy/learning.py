"""What the book learns per station, as per-day aggregates (bounded memory, event time).

From each finished day of sessions: the log-normal fit of occupied durations (n, sum and sum of squares
of log seconds), session starts per half hour (the arrival rate by time of day), the turnover gap (how
soon a position that frees up is taken again when cars wait) and the grade mix. A query on day D uses
only the `history_days` days before D, so the model is a function of event time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from occupancy.timeline import Session

DAY_S = 86400.0
BUCKET_S = 1800.0
BUCKETS = int(DAY_S / BUCKET_S)
FAST_GAP_S = 150.0  # a session starting within this of the previous one's end came from the queue
MAX_SESSION_S = 3600.0  # longer "sessions" are telemetry faults and are not learned from

# Priors used until a station has a finished day of history.
PRIOR_MU = math.log(300.0)
PRIOR_SIGMA = 0.5
PRIOR_GAP_S = 30.0
PRIOR_RATE_PER_POSITION_H = 4.0


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
    fast_gaps: int = 0
    sum_fast_gap: float = 0.0
    slow_gaps: int = 0
    grades: dict[str, int] = field(default_factory=dict)


def summarise(sessions: Iterable[Session], utc_offset_s: float) -> DaySummary:
    out = DaySummary()
    for s in sessions:
        out.starts[bucket_of(s.start, utc_offset_s)] += 1
        if s.grade is not None:
            out.grades[s.grade] = out.grades.get(s.grade, 0) + 1
        if s.gap_before is not None:
            if s.gap_before <= FAST_GAP_S:
                out.fast_gaps += 1
                out.sum_fast_gap += s.gap_before
            else:
                out.slow_gaps += 1
        if s.end is not None and 5.0 <= s.end - s.start <= MAX_SESSION_S:
            x = math.log(s.end - s.start)
            out.n += 1
            out.sum_log += x
            out.sum_log2 += x * x
    return out


@dataclass(frozen=True, slots=True)
class StationModel:
    """The learned model a query on one day uses."""

    mu: float  # log-normal session duration (seconds)
    sigma: float
    gap_s: float  # turnover: position freed -> next vehicle's first event, when cars wait
    rate_per_h: tuple[float, ...]  # arrivals per hour in each half-hour bucket (all grades)
    grade_mix: dict[str, float]
    days: int  # finished days learned from (0: priors)

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
    n = sum(d.n for d in days)
    if n >= 20:
        mu = sum(d.sum_log for d in days) / n
        var = sum(d.sum_log2 for d in days) / n - mu * mu
        sigma = max(0.1, math.sqrt(max(var, 0.0)))
    else:
        mu, sigma = PRIOR_MU, PRIOR_SIGMA
    fast = sum(d.fast_gaps for d in days)
    gap = sum(d.sum_fast_gap for d in days) / fast if fast >= 10 else PRIOR_GAP_S
    if days:
        raw = [sum(d.starts[b] for d in days) / len(days) * (3600.0 / BUCKET_S) for b in range(BUCKETS)]
        # light smoothing over neighbouring half hours: starts lag arrivals when there is a queue
        rate = tuple(
            0.25 * raw[(b - 1) % BUCKETS] + 0.5 * raw[b] + 0.25 * raw[(b + 1) % BUCKETS] for b in range(BUCKETS)
        )
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
    return StationModel(mu, sigma, gap, rate, mix, len(days))
