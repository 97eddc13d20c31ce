"""What a forecourt controller reports, and which nozzle state may follow which.

Shared contract between ingest (validation, storage, tailing) and the live model/estimator.

Times are event times in seconds since the Unix epoch (float, UTC); `seq` is the controller's
per-nozzle sequence number (strictly increasing per (station, position, nozzle)). A nozzle belongs to a
fueling position; a vehicle occupies the whole position while any of its nozzles is out of `idle`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NozzleState(StrEnum):
    IDLE = "idle"  # nozzle hung up, position free
    CALLING = "calling"  # nozzle lifted, waiting for authorisation
    AUTHORIZED = "authorized"  # pump released by the controller (prepay or attendant)
    FUELING = "fueling"  # product flowing
    COMPLETED = "completed"  # transaction ended, vehicle still at the position (paying, leaving)
    OFFLINE = "offline"  # the pump or nozzle stopped reporting / out of service


# For two events with consecutive seq numbers on one nozzle, the later state must be one of these.
# A repeated state (heartbeat) is always allowed; across a gap in seq (dropped telemetry) any state is.
ALLOWED_NEXT: dict[NozzleState, frozenset[NozzleState]] = {
    NozzleState.IDLE: frozenset({NozzleState.CALLING, NozzleState.OFFLINE}),
    NozzleState.CALLING: frozenset({NozzleState.AUTHORIZED, NozzleState.IDLE, NozzleState.OFFLINE}),
    NozzleState.AUTHORIZED: frozenset({NozzleState.FUELING, NozzleState.IDLE, NozzleState.OFFLINE}),
    NozzleState.FUELING: frozenset({NozzleState.COMPLETED, NozzleState.OFFLINE}),
    NozzleState.COMPLETED: frozenset({NozzleState.IDLE, NozzleState.CALLING, NozzleState.OFFLINE}),
    NozzleState.OFFLINE: frozenset(NozzleState),
}

# States in which a vehicle stands at the position.
OCCUPIED = frozenset(
    {NozzleState.CALLING, NozzleState.AUTHORIZED, NozzleState.FUELING, NozzleState.COMPLETED}
)


def transition_allowed(before: NozzleState, after: NozzleState, seq_gap: int) -> bool:
    """Whether `after` may follow `before` when their seq numbers differ by `seq_gap` (>= 1)."""
    return seq_gap > 1 or before == after or after in ALLOWED_NEXT[before]


@dataclass(frozen=True, slots=True)
class NozzleEvent:
    """One accepted nozzle state change, as stored and as the live model consumes it."""

    station_id: int
    position: int  # fueling position number within the station (fueling_positions.number)
    nozzle: int  # nozzle number within the position (nozzles.number)
    state: NozzleState
    ts: float  # event time, epoch seconds UTC
    seq: int


@dataclass(frozen=True, slots=True)
class WaitingReport:
    """A station that counts its queue says how many vehicles wait on the forecourt (all grades)."""

    station_id: int
    waiting_vehicles: int
    ts: float


@dataclass(frozen=True, slots=True)
class PositionLayout:
    """A fueling position of the catalogue: its number and the grade of each nozzle."""

    number: int
    nozzle_grades: dict[int, str]  # nozzle number -> grade code ("92", "95", "0" ...)

    @property
    def grades(self) -> frozenset[str]:
        return frozenset(self.nozzle_grades.values())


@dataclass(frozen=True, slots=True)
class PositionClaim:
    """A paid order holds this position for its vehicle from `ts` until the pump reports a later event
    for the position (issue: a paid order marks its position as taken until the pump reports otherwise)."""

    station_id: int
    position: int
    ref: str  # the order id
    ts: float
