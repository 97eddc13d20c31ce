"""How far today's arrivals run above (or below) the learned time-of-day rate: the queue filter's prior.

Two signs, both functions of the events and the date of `as_of` alone:
- the calendar: on a Chinese public holiday (timekeeping/china_days.py) the prior expects
  `HOLIDAY_FACTOR` times the usual arrivals, with a wider spread; a make-up working day is an ordinary one;
- today's session starts so far (the open day's summary, half hours that ended at least `SETTLED_S` before
  `as_of`, from 06:00) against what the learned rate expects for them: a gamma-Poisson update of the prior,
  worth `PRIOR_ARRIVALS` arrivals. Starts are capped by the positions, so a saturated morning reads low:
  the filter's own evidence (quick retakes, long busy spells, queue counts) moves the particles' factors on.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from occupancy.learning import BUCKET_S, BUCKETS, DAY_S, DaySummary, StationModel, bucket_of, day_of
from timekeeping.china_days import is_public_holiday

HOLIDAY_FACTOR = 2.0
PRIOR_ARRIVALS = 12.0
SETTLED_S = 1800.0  # a half hour this long past is folded into the open day whatever the delivery lag
FIRST_BUCKET = int(6 * 3600 // BUCKET_S)  # night counts are too thin to say much
SPREAD = 0.0  # log-normal spread of the particles' factors on an ordinary day (the learned rate's)
SPREAD_BUSY = 0.25  # ... on a holiday or a day already running well above the usual


@dataclass(frozen=True, slots=True)
class Intensity:
    """Today's arrivals as a factor of the learned rate: log-normal, `center` its median."""

    center: float
    spread: float
    holiday: bool


def local_date(ts: float, utc_offset_s: float) -> datetime.date:
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=day_of(ts, utc_offset_s))


def calendar_prior(ts: float, utc_offset_s: float) -> Intensity:
    """The calendar's prior for the day of `ts` (no evidence from the day itself)."""
    if is_public_holiday(local_date(ts, utc_offset_s)):
        return Intensity(HOLIDAY_FACTOR, SPREAD_BUSY, True)
    return Intensity(1.0, SPREAD, False)


def day_intensity(
    model: StationModel, today: DaySummary | None, as_of: float, utc_offset_s: float
) -> Intensity:
    prior = calendar_prior(as_of, utc_offset_s)
    if model.days == 0 or today is None:
        return prior
    day_start = day_of(as_of, utc_offset_s) * DAY_S - utc_offset_s
    settled = as_of - SETTLED_S
    last = bucket_of(settled, utc_offset_s) if settled > day_start else -1  # buckets before this ended
    observed = expected = 0.0
    for b in range(FIRST_BUCKET, min(last, BUCKETS)):
        observed += today.starts[b]
        expected += model.rate_per_h[b] * BUCKET_S / 3600.0
    center = (PRIOR_ARRIVALS + observed) / (PRIOR_ARRIVALS / prior.center + expected)
    busy = prior.holiday or center > 1.3
    return Intensity(center, SPREAD_BUSY if busy else SPREAD, prior.holiday)


def busy_day(intensity: Intensity) -> bool:
    """A holiday, or a day already running well above its usual."""
    return intensity.spread > SPREAD


def capacity_per_h(model: StationModel, positions: int) -> float:
    """Vehicles the positions serve per hour when busy without pause."""
    hold = math.exp(model.mu + model.sigma**2 / 2) + model.gap_s
    return positions * 3600.0 / hold
