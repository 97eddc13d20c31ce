"""Checkout's SQL (parameterised): checkout rows, the station and nozzle a checkout names, points,
callback events, and what the sweeper looks for."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, text

LIVE_STATES = ("ordered", "paid", "fueling", "completed", "refunded")  # a stored order to answer with


def find(conn: Connection, driver_id: str, key: str) -> RowMapping | None:
    return (
        conn.execute(
            text("SELECT * FROM checkouts WHERE driver_id = :d AND idempotency_key = :k"),
            {"d": driver_id, "k": key},
        )
        .mappings()
        .first()
    )


def get(conn: Connection, checkout_id: str, *, lock: bool = False) -> RowMapping | None:
    sql = "SELECT * FROM checkouts WHERE id = :id" + (" FOR UPDATE" if lock else "")  # noqa: S608
    return conn.execute(text(sql), {"id": checkout_id}).mappings().first()


def by_order(conn: Connection, order_id: str, *, lock: bool = False) -> RowMapping | None:
    sql = "SELECT * FROM checkouts WHERE order_id = :o" + (" FOR UPDATE" if lock else "")  # noqa: S608
    return conn.execute(text(sql), {"o": order_id}).mappings().first()


def insert(conn: Connection, row: dict[str, Any]) -> bool:
    """A new pending checkout; False when (driver, key) exists (a concurrent duplicate)."""
    names = list(row)
    sql = (
        f"INSERT INTO checkouts ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "  # noqa: S608
        "ON CONFLICT (driver_id, idempotency_key) DO NOTHING RETURNING id"
    )
    return conn.execute(text(sql), row).first() is not None


def open_order_at(
    conn: Connection, driver_id: str, checkout_id: str, at: tuple[int, int, int], now: datetime
) -> str | None:
    """The driver's other open checkout at this (station, position, nozzle): being placed, unpaid within
    its hold, paid or fueling. Locks the driver row first: two concurrent checkouts see each other."""
    conn.execute(text("SELECT 1 FROM drivers WHERE id = :d FOR UPDATE"), {"d": driver_id})
    return conn.execute(
        text(
            "SELECT id FROM checkouts WHERE driver_id = :d AND station_id = :s AND position = :p "
            "AND nozzle = :n AND id <> :id AND ((state = 'pending' AND attempt_until >= :now) "
            "OR (state = 'ordered' AND (hold_until IS NULL OR hold_until > :now)) "
            "OR state IN ('paid', 'fueling')) ORDER BY created_at LIMIT 1"
        ),
        {"d": driver_id, "id": checkout_id, "s": at[0], "p": at[1], "n": at[2], "now": now},
    ).scalar()


def driver_orders(
    conn: Connection, driver_id: str, limit: int, after: tuple[datetime, str] | None
) -> list[RowMapping]:
    """The driver's checkouts that became orders, newest first, after the (created_at, id) of a cursor."""
    return list(
        conn.execute(
            text(
                "SELECT * FROM checkouts WHERE driver_id = :d AND order_id IS NOT NULL "
                "AND (CAST(:at AS timestamptz) IS NULL OR (created_at, id) < (:at, :id)) "
                "ORDER BY created_at DESC, id DESC LIMIT :n"
            ),
            {"d": driver_id, "n": limit, "at": after[0] if after else None, "id": after[1] if after else ""},
        ).mappings()
    )


def claim_retry(conn: Connection, checkout_id: str, now: datetime, lease_until: datetime) -> bool:
    """Take a failed (or abandoned pending) checkout for a new attempt; False when someone else has it."""
    return (
        conn.execute(
            text(
                "UPDATE checkouts SET state = 'pending', attempt_until = :lease, problem = NULL, "
                "reconcile_until = NULL, updated_at = :now "
                "WHERE id = :id AND (state = 'failed' OR (state = 'pending' AND attempt_until < :now)) "
                "RETURNING id"
            ),
            {"id": checkout_id, "now": now, "lease": lease_until},
        ).first()
        is not None
    )


def hold(conn: Connection, checkout_id: str, hold_until: datetime | None) -> None:
    conn.execute(
        text("UPDATE checkouts SET reservation_ref = id, hold_until = :h WHERE id = :id"),
        {"id": checkout_id, "h": hold_until},
    )


def station_and_nozzle(conn: Connection, station_id: int, position: int, nozzle: int) -> RowMapping | None:
    """The station's status, hours and time zone, whether the position exists and the nozzle's grade."""
    return (
        conn.execute(
            text(
                "SELECT s.status, s.opening_hours, s.timezone, p.id AS position_id, n.grade "
                "FROM stations s LEFT JOIN fueling_positions p ON p.station_id = s.id AND p.number = :p "
                "LEFT JOIN nozzles n ON n.position_id = p.id AND n.number = :n WHERE s.id = :s"
            ),
            {"s": station_id, "p": position, "n": nozzle},
        )
        .mappings()
        .first()
    )


def points_free(conn: Connection, driver_id: str, checkout_id: str, now: datetime) -> int | None:
    """Points the driver can still promise (balance minus live checkouts' undeducted points), locking the
    driver row; None when the driver is unknown."""
    balance = conn.execute(
        text("SELECT points_balance FROM drivers WHERE id = :d FOR UPDATE"), {"d": driver_id}
    ).scalar()
    if balance is None:
        return None
    return int(balance) - points_held(conn, driver_id, now, but=checkout_id)


def points_held(conn: Connection, driver_id: str, now: datetime, but: str = "") -> int:
    """Points the driver's live checkouts (other than `but`) have promised and not yet deducted."""
    held = conn.execute(
        text(
            "SELECT coalesce(sum(points_used), 0) FROM checkouts WHERE driver_id = :d AND id <> :id "
            "AND NOT points_deducted AND state IN ('pending', 'ordered') "
            "AND (hold_until IS NULL OR hold_until > :now)"
        ),
        {"d": driver_id, "id": but, "now": now},
    ).scalar_one()
    return int(held)


def unconsume_quote(conn: Connection, quote_id: str, ref: str) -> None:
    """Give the quote back (the checkout placed no order), so the driver may retry with it."""
    conn.execute(
        text(
            "UPDATE quotes SET consumed_at = NULL, consumed_ref = NULL WHERE id = :q AND consumed_ref = :ref"
        ),
        {"q": quote_id, "ref": ref},
    )


def store_order(conn: Connection, checkout_id: str, state: str, order: dict[str, Any], now: datetime) -> None:
    conn.execute(
        text(
            "UPDATE checkouts SET state = :st, order_id = :o, order_json = CAST(:j AS jsonb), "
            "problem = NULL, attempt_until = NULL, reconcile_until = NULL, updated_at = :now WHERE id = :id"
        ),
        {
            "id": checkout_id,
            "st": state,
            "o": order["order_id"],
            "j": orjson.dumps(order).decode(),
            "now": now,
        },
    )


def set_state(conn: Connection, checkout_id: str, now: datetime, **fields: Any) -> None:
    """Update the given columns (names are ours, values bound)."""
    values = dict(fields)
    for name in ("order_json", "problem"):
        if name in values and values[name] is not None:
            values[name] = orjson.dumps(values[name]).decode()
    sets = ", ".join(
        f"{n} = CAST(:{n} AS jsonb)" if n in ("order_json", "problem") else f"{n} = :{n}" for n in values
    )
    conn.execute(
        text(f"UPDATE checkouts SET {sets}, updated_at = :now WHERE id = :id"),  # noqa: S608
        {**values, "id": checkout_id, "now": now},
    )


def record_event(conn: Connection, event_id: str, order_id: str, state: str, now: datetime) -> bool:
    """False when the event was applied before."""
    return (
        conn.execute(
            text(
                "INSERT INTO ordercore_events (event_id, order_id, state, received_at) "
                "VALUES (:e, :o, :s, :now) ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            ),
            {"e": event_id, "o": order_id, "s": state, "now": now},
        ).first()
        is not None
    )


def deduct_points(conn: Connection, driver_id: str, points: int) -> bool:
    return (
        conn.execute(
            text(
                "UPDATE drivers SET points_balance = points_balance - :p, updated_at = now() "
                "WHERE id = :d AND points_balance >= :p RETURNING id"
            ),
            {"d": driver_id, "p": points},
        ).first()
        is not None
    )


def restore_points(conn: Connection, driver_id: str, points: int) -> None:
    conn.execute(
        text("UPDATE drivers SET points_balance = points_balance + :p, updated_at = now() WHERE id = :d"),
        {"d": driver_id, "p": points},
    )


def count_completed_order(conn: Connection, driver_id: str) -> None:
    conn.execute(
        text("UPDATE drivers SET completed_orders = completed_orders + 1, updated_at = now() WHERE id = :d"),
        {"d": driver_id},
    )


def unuse_coupons(conn: Connection, ref: str) -> list[str]:
    """A refund before fueling gives back the coupons the order used (and any still held)."""
    rows = conn.execute(
        text(
            "UPDATE coupon_instances SET state = 'available', reservation_ref = NULL, reserved_until = NULL, "
            "used_at = NULL WHERE reservation_ref = :ref AND state IN ('reserved', 'used') RETURNING id"
        ),
        {"ref": ref},
    )
    return sorted((str(r[0]) for r in rows), key=int)


# ---- the sweeper -------------------------------------------------------------------------------------------
def abandoned_attempts(conn: Connection, now: datetime, limit: int = 50) -> list[str]:
    """Pending checkouts whose attempt lease ran out (the worker died or hung mid-attempt)."""
    rows = conn.execute(
        text(
            "SELECT id FROM checkouts WHERE state = 'pending' AND attempt_until < :now "
            "ORDER BY attempt_until LIMIT :n"
        ),
        {"now": now, "n": limit},
    )
    return [r[0] for r in rows]


def to_reconcile(conn: Connection, now: datetime, limit: int = 50) -> list[str]:
    """Failed checkouts for which a late order may still appear at the order core."""
    rows = conn.execute(
        text(
            "SELECT id FROM checkouts WHERE state = 'failed' AND reconcile_until > :now "
            "ORDER BY reconcile_until LIMIT :n"
        ),
        {"now": now, "n": limit},
    )
    return [r[0] for r in rows]


def stop_reconciling(conn: Connection, now: datetime) -> None:
    conn.execute(
        text(
            "UPDATE checkouts SET reconcile_until = NULL WHERE state = 'failed' AND reconcile_until <= :now"
        ),
        {"now": now},
    )


def cancellations_due(conn: Connection, limit: int = 50) -> list[tuple[str, str, str]]:
    """(checkout id, order id, reason) of cancellations the order core has yet to confirm."""
    rows = conn.execute(
        text(
            "SELECT id, order_id, cancel_reason FROM checkouts WHERE cancel_reason IS NOT NULL "
            "AND order_id IS NOT NULL ORDER BY updated_at LIMIT :n"
        ),
        {"n": limit},
    )
    return [(r[0], r[1], r[2]) for r in rows]
