"""The member price one driver sees for a grade: the platform price (else the pump price) less their
level's per-litre member discount (member_levels: the grade's own row, else the level's all-grades row).
A driver the service has not seen, or one without a level, has none."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, text

from pricing import store
from pricing.ladder import Ladder


@dataclass(frozen=True)
class MemberPrice:
    level: str
    price: Decimal
    currency: str


def member_level(conn: Connection, driver_id: str | None) -> str | None:
    if driver_id is None:
        return None
    found = conn.execute(text("SELECT member_level FROM drivers WHERE id = :d"), {"d": driver_id}).first()
    return None if found is None else found[0]


def member_price(conn: Connection, level: str | None, ladder: Ladder) -> MemberPrice | None:
    base = ladder.get("platform") or ladder.get("pump")
    if level is None or base is None:
        return None
    cut = store.member_per_litre(conn, ladder.grade).get((level, ladder.grade))
    own = ladder.get(f"member:{level}")
    if own is not None:  # the station's own price for this level
        return MemberPrice(level, own.price, own.currency)
    if cut is None:
        return None
    return MemberPrice(level, max(base.price - cut, Decimal(0)), base.currency)
