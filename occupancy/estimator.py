"""The wait distribution for a vehicle arriving at `as_of`, behind the queues of occupancy/particles.py.

A seeded Monte Carlo of first-come-first-served over the positions: busy ones free after the remaining
time of the phase their nozzle is in (log-normal, conditioned on what has already elapsed) plus the
phases still to come; the queued vehicles (one sampled queue per row, grades included) take the first
position they can use, then a vehicle of `grade` arriving now. When the live data is stale: the M/M/c
typical wait.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from occupancy.events import NozzleState
from occupancy.learning import StationModel
from occupancy.particles import Ints
from occupancy.queueing import Floats

SAMPLES = 256
_Z = np.linspace(8.5, -8.5, 3401)  # decreasing z: increasing survival
_LOG_SURV = np.log(np.array([0.5 * math.erfc(z / math.sqrt(2.0)) for z in _Z]))


@dataclass(frozen=True, slots=True)
class Slot:
    """A position as the estimator sees it at as_of."""

    number: int
    grades: frozenset[str]
    kind: str  # "free" | "busy" | "claimed"
    elapsed_s: float  # since the status began
    state: NozzleState | None = None  # busy: the state of the nozzle in use
    phase_elapsed_s: float = 0.0  # busy: since that nozzle entered its state


@dataclass(frozen=True, slots=True)
class Distribution:
    mean_s: float
    p10_s: float
    p90_s: float
    p50_s: float | None = None  # the median (None: the mean stands for it)

    def widened(self, factor: float) -> Distribution:
        """The 10-90 band stretched by `factor` about the median, in ratio (for a day whose arrival
        factor is less certain than the queue's sampled spread shows)."""
        mid = self.p50_s if self.p50_s is not None else self.mean_s
        if factor <= 1.0 or mid <= 0.0:
            return self
        low = self.p10_s / factor
        high = mid + (self.p90_s - mid) * factor
        return Distribution(self.mean_s, min(low, self.p10_s), max(self.p90_s, high), mid)


def seed_for(station_id: int, grade: str, as_of: float) -> int:
    return zlib.crc32(f"{station_id}|{grade}|{as_of:.3f}".encode())


def _conditional(rng: np.random.Generator, mu: float, sigma: float, elapsed: float, n: int) -> Floats:
    """Remaining seconds of a log-normal(mu, sigma) duration that has lasted `elapsed` seconds."""
    if elapsed <= 0:
        return np.exp(mu + sigma * rng.standard_normal(n))
    z_e = (math.log(elapsed) - mu) / sigma
    if z_e > 6.0:  # far past this phase's usual length: about to end
        return rng.exponential(max(1.0, math.exp(mu) * sigma), n)
    log_s = math.log(0.5 * math.erfc(z_e / math.sqrt(2.0))) + np.log(rng.uniform(1e-12, 1.0, n))
    z = np.interp(log_s, _LOG_SURV, _Z)
    return np.maximum(np.exp(mu + sigma * z) - elapsed, 0.0)


def _residual(rng: np.random.Generator, model: StationModel, slot: Slot, n: int) -> Floats:
    """Remaining seconds of a busy position: by the phase its nozzle is in when known."""
    if slot.elapsed_s > 0 and (math.log(slot.elapsed_s) - model.mu) / model.sigma > 4.0:
        # far past any plausible session: its closing event is probably late; ends soon
        return rng.uniform(0.0, 2.0 * model.gap_s, n)
    ph = model.phases

    def fresh(state: NozzleState) -> Floats:
        mu, sigma = ph[state]
        return np.exp(mu + sigma * rng.standard_normal(n))

    e = slot.phase_elapsed_s
    if slot.state is NozzleState.COMPLETED:
        return _conditional(rng, *ph[NozzleState.COMPLETED], e, n)
    if slot.state is NozzleState.FUELING:
        return _conditional(rng, *ph[NozzleState.FUELING], e, n) + fresh(NozzleState.COMPLETED)
    if slot.state in (NozzleState.CALLING, NozzleState.AUTHORIZED):
        pre = _conditional(rng, *ph[NozzleState.CALLING], e, n)
        return pre + fresh(NozzleState.FUELING) + fresh(NozzleState.COMPLETED)
    return _conditional(rng, model.mu, model.sigma, slot.elapsed_s, n)


def initial_free_at(
    rng: np.random.Generator, model: StationModel, slots: Sequence[Slot], samples: int
) -> Floats:
    """Seconds from now until each position frees, one row per sample (0: free now)."""
    free_at = np.zeros((samples, len(slots)))
    for j, slot in enumerate(slots):
        if slot.kind == "busy":
            free_at[:, j] = _residual(rng, model, slot, samples)
        elif slot.kind == "claimed":
            drive = max(0.0, model.gap_s - slot.elapsed_s)
            free_at[:, j] = drive + np.exp(model.mu + model.sigma * rng.standard_normal(samples))
    return free_at


def simulate_wait(
    model: StationModel,
    slots: Sequence[Slot],
    grade: str,
    queues: Ints,
    queue_grades: Sequence[str],
    seed: int,
) -> Distribution:
    """Seconds until a vehicle of `grade` arriving now gets a position, first come first served behind
    `queues` (one sampled queue per Monte Carlo row: indexes into `queue_grades`, -1 past the end)."""
    samples = len(queues)
    rng = np.random.default_rng(seed)
    free_at = initial_free_at(rng, model, slots, samples)
    # masks[g] = positions a vehicle of queue grade g can use; the extra last row (index -1) is for "nobody"
    masks = np.array([[g in s.grades for s in slots] for g in queue_grades] + [[True] * len(slots)])
    usable = np.append(masks[:-1].any(axis=1), False)
    rows = np.arange(samples)
    depth = int((queues >= 0).sum(axis=1).max()) if queues.size else 0
    # one service time per row and queue depth, drawn at once (the same stream as depth draws of `samples`)
    service = np.exp(model.mu + model.sigma * rng.standard_normal((depth, samples))) if depth else None
    for k in range(depth):
        assert service is not None
        g_idx = queues[:, k]
        active = usable[g_idx]
        cand = np.where(masks[g_idx], free_at, np.inf)
        pos = cand.argmin(axis=1)
        t = cand[rows, pos]
        new = t + model.gap_s + service[k]
        free_at[rows[active], pos[active]] = new[active]
    mine = np.array([grade in s.grades for s in slots])
    wait = np.where(mine, free_at, np.inf).min(axis=1)
    wait = np.where(np.isfinite(wait), wait, 0.0)
    p10, p50, p90 = np.quantile(wait, [0.1, 0.5, 0.9])
    return Distribution(float(wait.mean()), float(p10), float(p90), float(p50))


def erlang_wait(model: StationModel, rate_per_h: float, servers: int) -> Distribution:
    """Typical wait at this time of day from the M/M/c formula (when live data is stale)."""
    if servers <= 0:
        return Distribution(0.0, 0.0, 0.0)
    service_s = math.exp(model.mu + model.sigma**2 / 2) + model.gap_s
    lam = rate_per_h / 3600.0
    mu = 1.0 / service_s
    a = lam / mu
    if a >= servers * 0.98:
        a = servers * 0.98
        lam = a * mu
    term = 1.0
    total = 1.0
    for k in range(1, servers):
        term *= a / k
        total += term
    last = term * a / servers * servers / (servers - a)
    c_prob = last / (total + last)
    decay = servers * mu - lam
    mean = c_prob / decay
    p90 = math.log(c_prob / 0.1) / decay if c_prob > 0.1 else 0.0
    return Distribution(mean, 0.0, p90)
