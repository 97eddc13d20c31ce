"""Order-core callbacks: signature check and idempotent application to the checkout.

`X-Ordercore-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`; a timestamp more
than `tolerance` seconds from our clock is refused (replays). Each event_id is applied once (the event row
is written in the transaction that applies it); a redelivery is acknowledged and skipped.

On paid: the checkout's coupons become used, the quote's points are deducted and the position is claimed.
On cancelled (or expired), or refunded before fueling: coupons and points go back. An order created for a
checkout that had already given up (failed) is cancelled at the order core. A paid order whose coupons or
points are gone by then (a hold that ran out and was taken) is refunded.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping

from checkout import repository as repo
from checkout.errors import InvalidEvent, InvalidSignature
from occupancy.claims import claim_position
from pricing import store

log = logging.getLogger(__name__)
STATES = ("created", "paid", "fueling", "completed", "cancelled", "refunded")


def verify_signature(
    secret: bytes, header: str | None, body: bytes, now: float, tolerance: float = 300
) -> None:
    if not header:
        raise InvalidSignature("X-Ordercore-Signature is missing")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        t = int(parts["t"][0])
    except (KeyError, ValueError):
        raise InvalidSignature("X-Ordercore-Signature has no valid t=") from None
    if abs(now - t) > tolerance:
        raise InvalidSignature(
            f"signature timestamp is {abs(now - t):.0f} s from our clock (max {tolerance:.0f})"
        )
    expected = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise InvalidSignature("signature does not match the body")


@dataclass(frozen=True)
class OrderEvent:
    event_id: str
    order_id: str
    idempotency_key: str
    previous_state: str | None
    state: str
    order: dict[str, Any]


def parse_event(body: bytes) -> OrderEvent:
    try:
        data = orjson.loads(body)
        event = OrderEvent(
            str(data["event_id"]),
            str(data["order_id"]),
            str(data["idempotency_key"]),
            data.get("previous_state"),
            str(data["state"]),
            dict(data["order"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InvalidEvent("the body is not an order.state_changed event") from None
    if event.state not in STATES:
        raise InvalidEvent(f"unknown order state {event.state!r}")
    return event


@dataclass(frozen=True)
class Applied:
    outcome: str  # applied | duplicate | unknown-order
    checkout_id: str | None = None
    cancel: str | None = None  # a reason: cancel (or refund) this order at the order core


def apply_event(conn: Connection, event: OrderEvent, now: datetime, hold_seconds: int) -> Applied:
    """Apply one event in the caller's transaction."""
    # The checkout row first, then the event (one lock order for every writer of both tables).
    row = repo.get(conn, event.idempotency_key, lock=True) or repo.by_order(conn, event.order_id, lock=True)
    if not repo.record_event(conn, event.event_id, event.order_id, event.state, now):
        return Applied("duplicate")
    if row is None or (row["order_id"] is not None and row["order_id"] != event.order_id):
        log.warning("order-core event %s for unknown order %s", event.event_id, event.order_id)
        return Applied("unknown-order")
    cid = row["id"]
    fields: dict[str, Any] = {"order_id": event.order_id, "order_json": event.order}
    cancel: str | None = None
    if event.state == "created":
        if row["state"] == "failed":  # checkout gave up on it: it must not stay live
            cancel = "checkout gave up on this order (the order core did not answer in time)"
            fields |= {"state": "cancelled", "cancel_reason": cancel, "reconcile_until": None}
        elif row["state"] not in ("pending", "ordered"):
            fields = {}  # an older event than what we know: keep ours
    elif event.state == "paid":
        cancel = _spend(conn, row, event, now, hold_seconds)
        deducted = row["points_deducted"] or (cancel is None and row["points_used"] > 0)
        fields |= {"state": "paid", "points_deducted": deducted}
        if cancel is not None:
            fields |= {"cancel_reason": cancel}
    elif event.state == "fueling":
        fields |= {"state": "fueling"}
    elif event.state == "completed":
        fields |= {"state": "completed"}
        repo.count_completed_order(conn, row["driver_id"])
    elif event.state == "cancelled":
        _give_back(conn, row, used_too=False)
        fields |= {
            "state": "cancelled",
            "cancel_reason": None,
            "reconcile_until": None,
            "hold_until": None,
            "points_deducted": False,
        }
    else:  # refunded: before fueling everything goes back; after fueling the coupons stay used
        if event.previous_state == "paid":
            _give_back(conn, row, used_too=True)
            fields |= {"points_deducted": False}
        fields |= {"state": "refunded", "cancel_reason": None, "hold_until": None}
    if fields:
        repo.set_state(conn, cid, now, **fields)
    return Applied("applied", cid, cancel)


def _spend(
    conn: Connection, row: RowMapping, event: OrderEvent, now: datetime, hold_seconds: int
) -> str | None:
    """Coupons used, points deducted, position claimed; a reason to refund when the coupons or points
    are no longer there."""
    cid = row["id"]
    coupons = [str(c) for c in event.order.get("coupons") or []]
    if coupons:
        try:
            store.consume(conn, cid, now)
        except (store.ReservationNotFound, store.ReservationExpired):
            try:  # the hold ran out (or was swept): take them again if still free
                store.reserve(conn, row["driver_id"], coupons, cid, hold_seconds, now)
                store.consume(conn, cid, now)
            except (store.CouponsUnavailable, store.DriverNotFound) as exc:
                return f"coupons no longer available at payment: {exc}"
    points = int(row["points_used"])
    if points and not row["points_deducted"] and not repo.deduct_points(conn, row["driver_id"], points):
        repo.unuse_coupons(conn, cid)
        return f"{row['points_used']} points no longer available at payment"
    claim_position(conn, int(row["station_id"]), int(row["position"]), event.order_id, now)
    return None


def _give_back(conn: Connection, row: RowMapping, *, used_too: bool) -> None:
    if used_too:
        repo.unuse_coupons(conn, row["id"])
    else:
        store.release(conn, row["id"])
    if row["points_deducted"]:
        repo.restore_points(conn, row["driver_id"], int(row["points_used"]))
