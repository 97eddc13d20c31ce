"""Arrivals that join the queue: the learned time-of-day rate, less those that find a free position.

A `FreeWindow` is a spell during which a position stood free (longer than a turnover): a vehicle arriving
then for a grade that position serves drives straight in, and nobody who could use it was waiting.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from occupancy.learning import StationModel

QMAX = 24  # queue columns a filter starts with (vehicles waiting, all grades); they grow as needed
MAX_QUEUE = 500  # longest queue modelled: a station's report is believed up to this (the ingest's bound)
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FreeWindow:
    """A position standing free (available to an arriving vehicle) during [start, end]."""

    start: float
    end: float
    grades: frozenset[str]


class Arrivals:
    """Expected arrivals that join the queue: the learned rate, less the share of demand that a free
    position could serve at the time (piecewise over the free windows, cumulated for O(log n) queries)."""

    def __init__(self, model: StationModel, utc_offset_s: float, windows: Sequence[FreeWindow]) -> None:
        self.model = model
        self.utc_offset_s = utc_offset_s
        self._coverage: dict[frozenset[str], float] = {}
        self.edges = sorted({w.start for w in windows} | {w.end for w in windows})
        self.open: list[frozenset[str]] = []  # grades served by a free position in [edges[i], edges[i+1]]
        self.cover: list[float] = []
        self.cum = [0.0]
        changes: dict[float, list[tuple[frozenset[str], int]]] = {}
        for w in windows:
            changes.setdefault(w.start, []).append((w.grades, 1))
            changes.setdefault(w.end, []).append((w.grades, -1))
        active: dict[str, int] = {}
        for x, y in zip(self.edges, self.edges[1:], strict=False):
            for grades, delta in changes[x]:
                for g in grades:
                    active[g] = active.get(g, 0) + delta
            grades_open = frozenset(g for g, n in active.items() if n > 0)
            cov = self.coverage(grades_open)
            self.open.append(grades_open)
            self.cover.append(cov)
            self.cum.append(self.cum[-1] + (1.0 - cov) * model.arrivals_between(x, y, utc_offset_s))

    def coverage(self, grades: set[str] | frozenset[str]) -> float:
        if not isinstance(grades, frozenset):
            return min(1.0, sum(self.model.grade_mix.get(g, 0.0) for g in grades))
        found = self._coverage.get(grades)  # memoised per frozenset (summed in that set's own order)
        if found is None:
            found = self._coverage[grades] = min(1.0, sum(self.model.grade_mix.get(g, 0.0) for g in grades))
        return found

    def _cumulative(self, t: float) -> float:
        edges = self.edges
        if not edges or t <= edges[0]:
            return -self.model.arrivals_between(t, edges[0], self.utc_offset_s) if edges else 0.0
        i = bisect_right(edges, t) - 1
        if i >= len(self.cover):
            return self.cum[-1] + self.model.arrivals_between(edges[-1], t, self.utc_offset_s)
        return self.cum[i] + (1.0 - self.cover[i]) * self.model.arrivals_between(
            edges[i], t, self.utc_offset_s
        )

    def mean(self, a: float, b: float) -> float:
        if not self.edges:
            return self.model.arrivals_between(a, b, self.utc_offset_s)
        return max(0.0, self._cumulative(b) - self._cumulative(a))

    def open_grades(self, t: float) -> frozenset[str]:
        i = bisect_right(self.edges, t) - 1
        return self.open[i] if 0 <= i < len(self.open) else frozenset()

    def last_all_free(self, before: float) -> float | None:
        """The latest time <= before when free positions served every grade (nobody can be waiting)."""
        for i in range(len(self.cover) - 1, -1, -1):
            if self.edges[i] <= before and self.cover[i] >= 0.999:
                return min(self.edges[i + 1], before)
        return None
