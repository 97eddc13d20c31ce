"""Arrivals that join the queue: the learned time-of-day rate, less those that find a free position.

A `FreeWindow` is a spell during which a position stood free (longer than a turnover): a vehicle arriving
then for a grade that position serves drives straight in, and nobody who could use it was waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from occupancy.learning import StationModel

QMAX = 40  # longest queue modelled
Floats = npt.NDArray[np.float64]


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
