"""When to go: the wait for a grade at each half hour ahead, from the live state and the learned profile.

A seeded Monte Carlo run forward from `as_of`: each row starts from one sampled queue of the filter (and
its arrival factor) and the busy positions' remaining times, as occupancy/estimator.py does; then vehicles
arrive at the learned time-of-day rate times the row's factor (today's from the filter; another day's
from the calendar's prior for that date, drawn with its spread), with the learned grade mix, in steps of
`STEP_S`, and take the suitable position that frees first (first come, first served). At each half-hour
mark, the wait of a vehicle of `grade` arriving then is read off every row: mean, 10th and 90th percentile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from occupancy.estimator import Distribution, Slot, initial_free_at
from occupancy.intensity import calendar_prior
from occupancy.learning import BUCKET_S, StationModel, day_of
from occupancy.particles import Floats, Ints

ROWS = 64
STEP_S = 300.0
MAX_HOURS = 48


@dataclass(frozen=True, slots=True)
class ForecastSlot:
    at: float  # the half-hour mark (event time)
    wait: Distribution  # seconds
    arrival_rate_per_hour: float  # the rate assumed then (learned rate x the day's factor)
    holiday: bool  # the mark's day is a public holiday


def marks(as_of: float, hours: int, utc_offset_s: float) -> list[float]:
    """The half-hour marks after as_of, for `hours` hours."""
    first = (math.floor((as_of + utc_offset_s) / BUCKET_S) + 1) * BUCKET_S - utc_offset_s
    return [first + k * BUCKET_S for k in range(hours * 2)]


def forecast_waits(
    model: StationModel,
    slots: Sequence[Slot],
    grade: str,
    queues: Ints,
    queue_grades: Sequence[str],
    scales: Floats,
    as_of: float,
    hours: int,
    utc_offset_s: float,
    seed: int,
    widen: float = 1.0,
) -> list[ForecastSlot]:
    """`queues` and `scales`: one sampled queue and today's arrival factor per row (ROWS rows)."""
    rows = len(queues)
    rng = np.random.default_rng(seed)
    free_at = initial_free_at(rng, model, slots, rows)
    grades = sorted(model.grade_mix)
    all_grades = sorted(set(queue_grades) | set(grades))
    masks = np.array([[g in s.grades for s in slots] for g in all_grades] + [[True] * len(slots)])
    usable = np.append(masks[:-1].any(axis=1), False)
    index = {g: i for i, g in enumerate(all_grades)}
    queue_idx = np.array([index[g] for g in queue_grades] + [-1])
    mine = np.array([grade in s.grades for s in slots])
    ids = np.arange(rows)
    blocked = np.where(masks, 0.0, np.inf)  # added to free_at: positions a grade cannot use never free
    holds: list[Floats] = []  # service times drawn 256 arrivals at a time

    def take(g_idx: Ints, at: Floats, active: npt.NDArray[np.bool_]) -> None:
        if not holds:
            holds.extend(np.exp(model.mu + model.sigma * rng.standard_normal((256, rows))) + model.gap_s)
        cand = free_at + blocked[g_idx]
        pos = cand.argmin(axis=1)
        start = np.maximum(cand[ids, pos], at) + holds.pop()
        keep = active & usable[g_idx]
        free_at[ids, pos] = np.where(keep, start, free_at[ids, pos])

    zero = np.zeros(rows)
    for k in range(queues.shape[1] if queues.size else 0):  # the queue now, in order
        col = queues[:, k]
        take(queue_idx[col], zero, col >= 0)
    mix = np.array([model.grade_mix[g] for g in grades])
    cdf = np.cumsum(mix / mix.sum()) if mix.sum() > 0 else None
    mix_idx = np.array([index[g] for g in grades])
    today = day_of(as_of, utc_offset_s)
    day_scales: dict[int, tuple[Floats, bool]] = {}

    def scales_for(t: float) -> tuple[Floats, bool]:
        d = day_of(t, utc_offset_s)
        if d == today:
            return scales, calendar_prior(t, utc_offset_s).holiday
        found = day_scales.get(d)
        if found is None:
            prior = calendar_prior(t, utc_offset_s)
            drawn = prior.center * np.exp(prior.spread * rng.standard_normal(rows))
            found = day_scales[d] = (drawn, prior.holiday)
        return found

    out: list[ForecastSlot] = []
    t = 0.0  # seconds after as_of
    for mark in marks(as_of, min(hours, MAX_HOURS), utc_offset_s):
        end = mark - as_of
        while t < end and cdf is not None:
            step = min(STEP_S, end - t)
            row_scale, _ = scales_for(as_of + t)
            mean = model.arrivals_between(as_of + t, as_of + t + step, utc_offset_s)
            counts = rng.poisson(mean * row_scale)
            for k in range(int(counts.max()) if counts.size else 0):
                at = t + step * rng.random(rows)
                g = mix_idx[np.minimum(np.searchsorted(cdf, rng.random(rows)), len(cdf) - 1)]
                take(g, at, counts > k)
            t += step
        wait = np.where(mine, free_at, np.inf).min(axis=1) - end
        wait = np.maximum(np.where(np.isfinite(wait), wait, 0.0), 0.0)
        p10, p50, p90 = np.quantile(wait, [0.1, 0.5, 0.9])
        dist = Distribution(float(wait.mean()), float(p10), float(p90), float(p50)).widened(widen)
        row_scale, holiday = scales_for(mark)
        rate = model.rate_at(mark, utc_offset_s) * float(row_scale.mean())
        out.append(ForecastSlot(mark, dist, rate, holiday))
    return out
