"""Position claims: a paid order holds its fueling position until the pump reports a later event there.

Checkout calls `claim_position` inside its own transaction when an order is paid; every worker's tail
(api/occupancy_tail.py) reads new claims into its live book.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from occupancy.errors import ClaimConflict, UnknownPosition

_INSERT = sa.text(
    """
    INSERT INTO position_claims (station_id, position, ref, ts)
    SELECT :station_id, :position, :ref, :ts
    WHERE EXISTS (SELECT 1 FROM fueling_positions WHERE station_id = :station_id AND number = :position)
    ON CONFLICT (ref) DO NOTHING
    RETURNING id
    """
)
_EXISTING = sa.text("SELECT station_id, position FROM position_claims WHERE ref = :ref")


def claim_position(conn: sa.Connection, station_id: int, position: int, ref: str, ts: datetime) -> None:
    """Record that order `ref` holds `position` of `station_id` from `ts` (timezone-aware).

    Idempotent per ref: claiming again with the same station and position does nothing (the first ts
    stays). Raises UnknownPosition when the station has no such position, ClaimConflict when `ref`
    already holds a different station or position. Runs in the caller's transaction (no commit here).
    """
    if ts.tzinfo is None:
        raise ValueError("claim ts must be timezone-aware")
    params = {"station_id": station_id, "position": position, "ref": ref, "ts": ts}
    if conn.execute(_INSERT, params).first() is not None:
        return
    existing = conn.execute(_EXISTING, {"ref": ref}).first()
    if existing is None:
        raise UnknownPosition(f"station {station_id} has no fueling position {position}")
    if (int(existing.station_id), int(existing.position)) != (station_id, position):
        raise ClaimConflict(
            f"order {ref} already holds position {existing.position} of station {existing.station_id}"
        )
