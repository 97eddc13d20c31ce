"""Webhook subscriptions of a partner: price changes in a region (adcode), of brands, grades and tiers,
at least a threshold in yuan per litre. Secrets are generated here and returned once (on creation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from geo.coords import CoordSystem
from partners.errors import SubscriptionNotFound
from partners.signing import new_secret

_COLUMNS = (
    "id, partner_id, url, coord, adcode, brands, grades, tiers, threshold, active, consecutive_failures, "
    "disabled_at, created_at"
)
_INSERT = text(
    "INSERT INTO webhook_subscriptions (partner_id, url, secret, coord, adcode, brands, grades, tiers, "
    "threshold, created_at) VALUES (:partner_id, :url, :secret, :coord, :adcode, :brands, :grades, :tiers, "
    ":threshold, :now) RETURNING id"
)
# The SQL below is built from this module's constant column list only.
_OF_PARTNER = text(f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE partner_id = :partner_id ORDER BY id")  # noqa: S608
_ONE = text(f"SELECT {_COLUMNS} FROM webhook_subscriptions WHERE partner_id = :partner_id AND id = :id")  # noqa: S608
_DELETE = text("DELETE FROM webhook_subscriptions WHERE partner_id = :partner_id AND id = :id")
_PENDING = text(
    "SELECT subscription_id, count(*) FROM webhook_deliveries WHERE state = 'pending' "
    "AND subscription_id = ANY(:ids) GROUP BY subscription_id"
)


@dataclass(frozen=True)
class Subscription:
    id: int
    partner_id: int
    url: str
    coord: str
    adcode: str | None
    brands: list[str]
    grades: list[str]
    tiers: list[str]
    threshold: Decimal
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    created_at: datetime
    pending: int = 0


@dataclass(frozen=True)
class NewSubscription:
    url: str
    coord: CoordSystem
    adcode: str | None
    brands: Sequence[str]
    grades: Sequence[str]
    tiers: Sequence[str]
    threshold: Decimal


def _with_pending(conn: Connection, rows: Sequence[Any]) -> list[Subscription]:
    ids = [int(r.id) for r in rows]
    pending: dict[int, int] = {}
    if ids:
        pending = {int(s): int(n) for s, n in conn.execute(_PENDING, {"ids": ids})}
    return [Subscription(**dict(r._mapping), pending=pending.get(int(r.id), 0)) for r in rows]


def create(
    conn: Connection, partner_id: int, new: NewSubscription, now: datetime
) -> tuple[Subscription, str]:
    """The stored subscription and its signing secret (shown to the partner this once)."""
    secret = new_secret()
    new_id = conn.execute(
        _INSERT,
        {
            "partner_id": partner_id,
            "url": new.url,
            "secret": secret,
            "coord": new.coord.value,
            "adcode": new.adcode,
            "brands": list(new.brands),
            "grades": list(new.grades),
            "tiers": list(new.tiers),
            "threshold": new.threshold,
            "now": now,
        },
    ).scalar_one()
    return one(conn, partner_id, int(new_id)), secret


def of_partner(conn: Connection, partner_id: int) -> list[Subscription]:
    return _with_pending(conn, list(conn.execute(_OF_PARTNER, {"partner_id": partner_id})))


def one(conn: Connection, partner_id: int, subscription_id: int) -> Subscription:
    row = conn.execute(_ONE, {"partner_id": partner_id, "id": subscription_id}).first()
    if row is None:
        raise SubscriptionNotFound(f"you have no webhook subscription {subscription_id}")
    return _with_pending(conn, [row])[0]


def delete(conn: Connection, partner_id: int, subscription_id: int) -> None:
    if conn.execute(_DELETE, {"partner_id": partner_id, "id": subscription_id}).rowcount == 0:
        raise SubscriptionNotFound(f"you have no webhook subscription {subscription_id}")


_REACTIVATE = text(
    "UPDATE webhook_subscriptions SET active = true, consecutive_failures = 0, disabled_at = NULL "
    "WHERE id = :id"
)
_RETRY_NOW = text(
    "UPDATE webhook_deliveries SET next_attempt_at = :now WHERE subscription_id = :id AND state = 'pending'"
)


def reactivate(conn: Connection, subscription_id: int, now: datetime) -> None:
    """Active again with no failures counted; its pending deliveries are due now."""
    conn.execute(_REACTIVATE, {"id": subscription_id})
    conn.execute(_RETRY_NOW, {"id": subscription_id, "now": now})
