"""The queue ahead at `as_of` as explicit queues (grade of each waiting vehicle, in order): a particle filter.

Each particle is one possible queue, run forward from `window_start` through what the telemetry shows:
- vehicles arrive at the learned time-of-day rate with the learned grade mix, except grades that a free
  position could serve at the time (those drive straight in);
- a session that starts within the retake time of its position freeing took the first waiting vehicle
  that could use the position; its grade must be the grade the nozzle dispensed (particles disagreeing are
  down-weighted); with nobody able to use the position, a fresh arrival that fast is the explanation;
- a position standing free longer than the retake time proves nobody who could use it is waiting;
- a waiting-vehicles report weighs queues by how well their length agrees, then fixes the length (newest
  dropped, or vehicles added with the mix's grades).
Each particle also carries today's arrival factor (occupancy/intensity.py: drawn around the day's prior,
calendar and starts so far): its arrivals are the learned rate times that factor, so the evidence above
picks the factors that explain it (a holiday morning's retakes and counts lift them). When the look-back
never saw the queue empty, a particle whose factor outruns the positions starts with the queue that
excess builds in `INITIAL_BUSY_H`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from occupancy.intensity import Intensity, capacity_per_h
from occupancy.learning import StationModel
from occupancy.queueing import MAX_QUEUE, QMAX, Arrivals, FreeWindow

PARTICLES = 128
REPORT_AGREEMENT = 0.25  # likelihood factor per vehicle of difference between a queue and a report
INITIAL_BUSY_H = 0.5  # how long an unseen queue at the look-back's start is taken to have been building
MISSED = 0.5  # likelihood factor per queued vehicle that a position standing free contradicts
JITTER = 0.05  # log-spread added to the arrival factors at each resampling (keeps them diverse)
ORDINARY = Intensity(1.0, 0.0, False)
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Retake:
    """A session start: its position's grades, the grade dispensed, how long the position stood free."""

    ts: float
    grades: frozenset[str]
    grade: str | None
    gap_before: float | None


class QueueFilter:
    def __init__(
        self,
        model: StationModel,
        utc_offset_s: float,
        windows: Sequence[FreeWindow],
        seed: int,
        intensity: Intensity = ORDINARY,
    ) -> None:
        self.model = model
        self.utc_offset_s = utc_offset_s
        self.grades = sorted(model.grade_mix)
        self.index = {g: i for i, g in enumerate(self.grades)}
        self.mix = np.array([model.grade_mix[g] for g in self.grades])
        self.arrivals = Arrivals(model, utc_offset_s, windows)
        self.windows = windows
        self.rng = np.random.default_rng(seed)
        self.q = np.full((PARTICLES, QMAX), -1, dtype=np.int64)  # columns grow as queues do
        self.n = np.zeros(PARTICLES, dtype=np.int64)
        self.w = np.full(PARTICLES, 1.0 / PARTICLES)
        self.scale = (
            intensity.center * np.exp(intensity.spread * self.rng.standard_normal(PARTICLES))
            if intensity.spread > 0
            else np.full(PARTICLES, intensity.center)
        )
        self.jitter = JITTER if intensity.spread > 0 else 0.0
        self.weigh_free = False  # free spells weigh the queues (run_filter: a busy day without counts)
        self.rows = np.arange(PARTICLES)
        self.cols = np.arange(QMAX)
        self._usable_by: dict[frozenset[str], npt.NDArray[np.bool_]] = {}
        self._cdf_by: dict[frozenset[str], npt.NDArray[np.float64] | None] = {}
        mix_sum = self.mix.sum()
        self._fallback_cdf = (
            np.cumsum(self.mix / mix_sum / (self.mix / mix_sum).sum()) if mix_sum > 0 else None
        )

    def _usable(self, grades: frozenset[str] | set[str]) -> npt.NDArray[np.bool_]:
        """Lookup over grade index (+ a trailing False for -1 = empty slot); read only (memoised)."""
        key = grades if isinstance(grades, frozenset) else frozenset(grades)
        found = self._usable_by.get(key)
        if found is None:
            found = self._usable_by[key] = np.array([g in key for g in self.grades] + [False])
        return found

    def _open_cdf(self, at: float) -> npt.NDArray[np.float64] | None:
        """Cumulated grade mix of arrivals that queue at `at` (grades no free position serves then);
        None when every grade could drive straight in. Memoised per set of open grades."""
        open_grades = self.arrivals.open_grades(at)
        if open_grades in self._cdf_by:
            return self._cdf_by[open_grades]
        m = self.mix * ~self._usable(open_grades)[:-1]
        total = m.sum()
        mix = m / total if total > 0 else m
        cdf = self._cdf_by[open_grades] = np.cumsum(mix / mix.sum()) if mix.sum() > 0 else None
        return cdf

    def _append(self, count: Ints, cdf: npt.NDArray[np.float64] | None) -> None:
        """Append count[i] vehicles (grades drawn from the cumulated mix `cdf`) to queue i, up to
        MAX_QUEUE (the queue's columns grow to hold them)."""
        depth = int(count.max())
        if depth <= 0 or cdf is None:
            return
        draws = np.minimum(np.searchsorted(cdf, self.rng.random((PARTICLES, depth))), len(cdf) - 1)
        ks = self.cols[None, :depth] if depth <= len(self.cols) else np.arange(depth)[None, :]
        added = np.minimum(count, MAX_QUEUE - self.n)
        self._grow(int((self.n + added).max()))
        r, k = np.nonzero(ks < added[:, None])
        self.q[r, self.n[r] + k] = draws[r, k]
        self.n += added

    def _grow(self, need: int) -> None:
        width = len(self.cols)
        if need <= width:
            return
        while width < need:
            width *= 2
        wider = np.full((PARTICLES, width), -1, dtype=np.int64)
        wider[:, : len(self.cols)] = self.q
        self.q, self.cols = wider, np.arange(width)

    def births(self, a: float, b: float) -> None:
        mean = self.arrivals.mean(a, b)
        if mean > 1e-6:
            count = self.rng.poisson(mean * self.scale)
            self._append(count, self._open_cdf((a + b) / 2))

    def backlog(self, at: float, positions: int) -> None:
        """The queue seen at no moment empty: each particle starts with what its arrival factor's excess
        over the positions' capacity builds in INITIAL_BUSY_H."""
        excess = self.model.rate_at(at, self.utc_offset_s) * self.scale - capacity_per_h(
            self.model, positions
        )
        mean = np.maximum(0.0, excess) * INITIAL_BUSY_H
        if mean.max() > 1e-6:
            self._append(self.rng.poisson(mean), self._fallback_cdf)

    def _remove_at(self, has: npt.NDArray[np.bool_], col: Ints) -> None:
        """Remove the vehicle at column col[i] from queue i, for the rows where has[i]."""
        cut = np.where(has, col, len(self.cols))
        shifted = np.empty_like(self.q)
        shifted[:, :-1] = self.q[:, 1:]
        shifted[:, -1] = -1
        self.q = np.where(self.cols[None, :] >= cut[:, None], shifted, self.q)
        self.n -= has

    def retake(self, r: Retake, fresh_prob: float) -> None:
        can = self._usable(r.grades)[self.q]
        has = np.asarray(can.any(axis=1))
        first = can.argmax(axis=1)
        if r.grade is not None and r.grade in self.index:
            match = self.q[self.rows, first] == self.index[r.grade]
            self.w *= np.where(has, np.where(match, 1.0, 0.05), fresh_prob)
        else:
            self.w *= np.where(has, 1.0, fresh_prob)
        if has.any():
            self._remove_at(has, first)
        self._normalise()

    def clear(self, grades: frozenset[str]) -> None:
        """Nobody who could use these grades is waiting: drop such vehicles from every queue. With
        `weigh_free` each queue is first weighed by MISSED per vehicle it held that would have taken the
        free position, so the arrival factors that built those queues lose weight as quick retakes favour
        the ones that built some (without it, nothing but counts pulled a busy day's factors down)."""
        usable = self._usable(grades)
        hit = usable[self.q]
        if not hit.any():
            return
        if self.weigh_free:
            self.w *= MISSED ** hit.sum(axis=1)
            self._normalise()
            hit = usable[self.q]
        keep = (self.q >= 0) & ~hit
        order = np.argsort(~keep, axis=1, kind="stable")
        self.q = np.take_along_axis(np.where(keep, self.q, -1), order, axis=1)
        self.n = keep.sum(axis=1)

    def report(self, count: int, at: float) -> None:
        """The station counted `count` waiting: weigh queues by their agreement, then set the length."""
        count = min(count, MAX_QUEUE)
        self.w *= REPORT_AGREEMENT ** np.abs(self.n - count)
        self._normalise()
        over = self.n > count
        self.q[over] = np.where(self.cols[None, :] < count, self.q[over], -1)
        self.n[over] = count
        cdf = self._open_cdf(at)
        self._append(count - self.n, cdf if cdf is not None else self._fallback_cdf)

    def _normalise(self) -> None:
        total = self.w.sum()
        if total <= 1e-300 or not math.isfinite(total):
            self.w[:] = 1.0 / PARTICLES
            return
        self.w /= total
        if 1.0 / float((self.w**2).sum()) < PARTICLES / 2:
            pick = self._choice(PARTICLES)
            self.q, self.n, self.scale = self.q[pick], self.n[pick], self.scale[pick]
            if self.jitter:
                self.scale = self.scale * np.exp(self.jitter * self.rng.standard_normal(PARTICLES))
            self.w[:] = 1.0 / PARTICLES

    def _choice(self, size: int) -> Ints:
        """`size` particle indexes drawn by weight: what `rng.choice(PARTICLES, size, p=self.w)` draws (the
        same uniforms through the same normalised cumulative weights) without its argument checks."""
        cdf = self.w.cumsum()
        cdf /= cdf[-1]
        out: Ints = cdf.searchsorted(self.rng.random(size), side="right")
        return out

    def driving_in(self, grades: frozenset[str], still_coming: float) -> None:
        """A position freed moments ago shows no new vehicle yet: a queue holding someone who could use it
        explains that only if that vehicle is still driving in."""
        can = self._usable(grades)[self.q].any(axis=1)
        self.w *= np.where(can, still_coming, 1.0)
        self._normalise()

    def sample(self, size: int) -> Ints:
        """`size` queues drawn by weight: (size, columns) grade indexes, -1 past the end."""
        pick = self._choice(size)
        out: Ints = self.q[pick]
        return out

    def sample_with_scales(self, size: int) -> tuple[Ints, Floats]:
        """As `sample`, with each drawn queue's arrival factor."""
        pick = self._choice(size)
        queues: Ints = self.q[pick]
        scales: Floats = self.scale[pick]
        return queues, scales

    def mean_length(self) -> float:
        return float((self.w * self.n).sum())

    def mean_scale(self) -> float:
        """The arrival factor the evidence favours (weighted mean over the particles)."""
        return float((self.w * self.scale).sum())


def run_filter(
    model: StationModel,
    utc_offset_s: float,
    as_of: float,
    starts: Sequence[Retake],
    windows: Sequence[FreeWindow],
    reports: Sequence[tuple[float, int]],
    window_start: float,
    seed: int,
    just_freed: Sequence[tuple[frozenset[str], float]] = (),
    intensity: Intensity = ORDINARY,
    positions: int = 0,
) -> QueueFilter:
    """The filter run up to as_of; `just_freed`: (grades, seconds) of positions freed within the retake
    time and not yet taken as far as the telemetry shows; `positions`: the station's (for the backlog of a
    queue never seen empty; 0: none assumed)."""
    f = QueueFilter(model, utc_offset_s, windows, seed, intensity)
    # a busy day's factors, with no counts to pin the queue, are weighed by the free spells too (with
    # counts the reports weigh the queues; free spells on top collapsed the factor the forecast drains by)
    f.weigh_free = intensity.spread > 0 and not reports
    events: list[tuple[float, int, object]] = []
    for s in starts:
        quick = s.gap_before is None or s.gap_before <= model.retake_s
        at = s.ts - (s.gap_before if s.gap_before is not None and quick else model.gap_s)
        events.append((at, 1, s if quick else None))
    for w in windows:
        events.append((w.start, 0, w))
    for ts, count in reports:
        events.append((ts, 2, count))
    t = window_start
    empty_at = f.arrivals.last_all_free(as_of)
    if empty_at is not None and empty_at > t:
        t = empty_at  # every grade had a free position then: the queue was empty
    elif positions and intensity.spread > 0:
        f.backlog(t, positions)
    for at, _, what in sorted(events, key=lambda e: (e[0], e[1])):
        if at <= t or at > as_of:
            continue
        f.births(t, at)
        t = at
        if isinstance(what, FreeWindow):
            f.clear(what.grades)
        elif isinstance(what, int):
            f.report(what, at)
        elif isinstance(what, Retake):
            cov = f.arrivals.coverage({what.grade} if what.grade else set(what.grades))
            rate = model.rate_at(at, utc_offset_s) * intensity.center * cov / 3600.0
            fresh = 1.0 - math.exp(-rate * model.retake_s)
            f.retake(what, fresh if what.gap_before is not None else max(fresh, 0.5))
    if as_of > t:
        f.births(t, as_of)
    for w in windows:
        if w.start <= as_of <= w.end:
            f.clear(w.grades)
    for grades, elapsed in just_freed:
        f.driving_in(grades, model.still_coming(elapsed))
    return f
