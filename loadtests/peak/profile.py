"""The holiday-morning profile: how many simulated clients are active at each moment of a run.

A first morning of a holiday compressed into `duration_s`: a ramp from the night's trickle to the peak,
the peak, a lull, a second wave, the tail. One factor scales the whole curve; no randomness (the users'
own choices are seeded, see loadtests/peak/locustfile.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Interactive clients (drivers, price comparison, along-route) at factor 1.0 at the peak.
USERS_PER_FACTOR = 40
# (share of the run where the phase ends, share of the peak's users at that end, name); linear in between.
PHASES: tuple[tuple[float, float, str], ...] = (
    (0.00, 0.10, "night"),
    (0.30, 1.00, "morning ramp"),
    (0.55, 1.00, "peak"),
    (0.65, 0.50, "lull"),
    (0.75, 0.85, "second wave"),
    (0.90, 0.85, "second wave"),
    (1.00, 0.30, "tail"),
)


@dataclass(frozen=True, slots=True)
class Stage:
    users: int
    phase: str


def peak_users(factor: float) -> int:
    return max(1, math.ceil(USERS_PER_FACTOR * factor))


def stage_at(elapsed_s: float, duration_s: float, factor: float) -> Stage | None:
    """The interactive users wanted `elapsed_s` into a run of `duration_s`; None once the run is over."""
    if elapsed_s >= duration_s or duration_s <= 0:
        return None
    x = max(0.0, elapsed_s / duration_s)
    top = peak_users(factor)
    for (x0, y0, _), (x1, y1, name) in zip(PHASES, PHASES[1:], strict=False):
        if x <= x1:
            share = y0 + (y1 - y0) * ((x - x0) / (x1 - x0) if x1 > x0 else 1.0)
            return Stage(max(1, round(top * share)), name)
    return Stage(max(1, round(top * PHASES[-1][1])), PHASES[-1][2])
