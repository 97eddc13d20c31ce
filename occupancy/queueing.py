"""The queue ahead at `as_of`: a distribution over the number of vehicles waiting (all grades).

From a recent waiting-vehicles report when the station sends them; otherwise filtered forward from the
last moment the queue was known: vehicles arrive at the learned time-of-day rate, except those that find a
free position for their grade (they drive straight in); a session that starts within the retake time of
its position freeing took a waiting vehicle (or, with the probability that a fresh arrival came that
fast, nobody was waiting); a session that starts after a longer free spell on a position serving most of
the demand proves the queue empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from occupancy.learning import StationModel

QMAX = 40
Floats = npt.NDArray[np.float64]
_K = np.arange(QMAX + 1, dtype=np.float64)
_LOG_FACT = np.array([math.lgamma(i + 1) for i in range(QMAX + 1)])


@dataclass(frozen=True, slots=True)
class Start:
    """A session start seen in the recent past."""

    ts: float
    gap_before: float | None  # how long its position had been free before (None: unknown)
    broad: bool  # the position serves most of the demand (a long free spell there empties the queue)
    grades: frozenset[str]


@dataclass(frozen=True, slots=True)
class FreeWindow:
    """A position standing free (available to an arriving vehicle) during [start, end]."""

    start: float
    end: float
    grades: frozenset[str]


class Arrivals:
    """Expected arrivals that join the queue: the learned rate, less the share of demand that a free
    position could serve at the time."""

    def __init__(self, model: StationModel, utc_offset_s: float, windows: Sequence[FreeWindow]) -> None:
        self.model = model
        self.utc_offset_s = utc_offset_s
        edges = sorted({w.start for w in windows} | {w.end for w in windows})
        self.segments: list[tuple[float, float, float]] = []
        for x, y in zip(edges, edges[1:], strict=False):
            mid = (x + y) / 2
            grades: set[str] = set()
            for w in windows:
                if w.start <= mid <= w.end:
                    grades |= w.grades
            if grades:
                self.segments.append((x, y, self.coverage(grades)))

    def coverage(self, grades: set[str] | frozenset[str]) -> float:
        return min(1.0, sum(self.model.grade_mix.get(g, 0.0) for g in grades))

    def mean(self, a: float, b: float) -> float:
        total = self.model.arrivals_between(a, b, self.utc_offset_s)
        for x, y, cov in self.segments:
            lo, hi = max(a, x), min(b, y)
            if lo < hi:
                total -= cov * self.model.arrivals_between(lo, hi, self.utc_offset_s)
        return max(0.0, total)


def queue_distribution(
    model: StationModel, utc_offset_s: float, as_of: float, starts: Sequence[Start],
    windows: Sequence[FreeWindow], report: tuple[float, int] | None, window_start: float, empty_now: bool,
) -> Floats:
    """P(Q = k), k = 0..QMAX, for the all-grade queue at as_of."""
    p = np.zeros(QMAX + 1)
    if empty_now:
        p[0] = 1.0
        return p
    arrivals = Arrivals(model, utc_offset_s, windows)
    t = window_start
    p[0] = 1.0
    if report is not None:
        p[:] = 0.0
        p[min(report[1], QMAX)] = 1.0
        t = report[0]
    for s in sorted(starts, key=lambda s: s.ts):
        retake = s.gap_before is None or s.gap_before <= model.retake_s
        at = s.ts - (s.gap_before if s.gap_before is not None and retake else model.gap_s)
        if at <= t:
            continue
        p = births(p, arrivals.mean(t, at))
        t = at
        if not retake:
            if s.broad:
                p[:] = 0.0
                p[0] = 1.0
            continue
        rate = model.rate_at(at, utc_offset_s) * arrivals.coverage(s.grades) / 3600.0
        fresh = 1.0 - math.exp(-rate * model.retake_s)
        p = take(p, fresh if s.gap_before is not None else max(fresh, 0.5))
    if as_of > t:
        p = births(p, arrivals.mean(t, as_of))
    return p


def births(p: Floats, mean: float) -> Floats:
    """Add Poisson(mean) arrivals to the queue."""
    if mean <= 1e-9:
        return p
    out = np.convolve(p, np.exp(_K * math.log(mean) - mean - _LOG_FACT))
    res: Floats = out[: QMAX + 1].copy()
    res[QMAX] += out[QMAX + 1 :].sum()
    res /= res.sum()
    return res


def take(p: Floats, fresh: float) -> Floats:
    """A quick retake: a waiting vehicle left the queue, or (likelihood `fresh`, only possible when nobody
    waited) a vehicle that just arrived took the position."""
    out = np.zeros_like(p)
    out[:-1] = p[1:]
    out[0] += p[0] * fresh
    total = out.sum()
    if total <= 1e-12:
        out[:] = 0.0
        out[0] = 1.0
        return out
    res: Floats = out / total
    return res


def queued_grades(
    model: StationModel, utc_offset_s: float, as_of: float, windows: Sequence[FreeWindow], since: float
) -> dict[str, float]:
    """Weights of the grades of waiting vehicles: a vehicle of grade g can only be waiting if it arrived
    after the last time a position serving g stood free, so each grade weighs its expected arrivals since."""
    out: dict[str, float] = {}
    for g, share in model.grade_mix.items():
        last = max((w.end for w in windows if g in w.grades), default=since)
        last = max(last, as_of - 2 * model.median_s)  # waiting vehicles arrived within about a session
        out[g] = share * model.arrivals_between(min(last, as_of), as_of, utc_offset_s)
    return out
