"""A driver's pricing context for ranking many stations: member discount only (vectorised), or an engine
pricer when the driver holds coupons or payment promotions. Lists never spend points: they show what
the driver's quote would cost by default (a quote spends points only when asked, use_points)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from geo.snapshot import Snapshot
from pricing import store
from pricing.breakdown import Breakdown
from pricing.compare import EngineQuote
from pricing.context import PriceContext
from pricing.fills import FillRequest
from pricing.promotions import quote_price


def driver_pricer(
    engine: Engine,
    snap: Snapshot,
    driver_id: str,
    grade: str,
    now: datetime,
    channels: frozenset[str],
    fill_request: FillRequest,
) -> tuple[EngineQuote | None, int]:
    """The driver's member cut per litre (milli-units), and an engine pricer when the driver holds anything
    beyond a member discount (coupons, payment promotions for `channels`; points are never spent here).
    Blocking (SQL): call it from a worker thread. A driver never seen before is a new driver (member
    discount only)."""
    with engine.connect() as conn:
        driver = store.load_driver_context(conn, driver_id, now, payment_channels=channels, use_points=False)
        promotions = store.load_promotions(conn, now)
        policy, _ = store.load_policy(conn)
        member = store.member_per_litre(conn, grade)
    member_cut = member.get((driver.member_level or "", grade), Decimal(0))
    has_payment = any(p.channel in channels for p in promotions.payment)
    if not driver.coupons and not has_payment:
        return None, int(member_cut * 1000)

    def engine_quote(
        positions: Sequence[int], pump: np.ndarray, platform: np.ndarray
    ) -> dict[int, Breakdown]:
        ids = [int(snap.ids[p]) for p in positions]
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, brand, adcode, city FROM stations WHERE id = ANY(:ids)"), {"ids": ids}
            ).mappings()
            station = {r["id"]: r for r in rows}
        station_scoped = any(c.template.conditions.scope.stations for c in driver.coupons) or any(
            p.conditions.scope.stations for p in promotions.payment
        )
        done: dict[tuple[Any, ...], Breakdown | None] = {}
        out: dict[int, Breakdown] = {}
        for i, (pos, sid) in enumerate(zip(positions, ids, strict=True)):
            s = station[sid]
            key = (
                int(pump[i]),
                int(platform[i]),
                s["brand"],
                s["adcode"],
                s["city"],
                sid if station_scoped else None,
            )
            if key not in done:
                try:
                    price = PriceContext(
                        station_id=str(sid),
                        brand=s["brand"],
                        city=s["adcode"] or "",
                        city_name=s["city"],
                        grade=grade,
                        pump_price=Decimal(int(pump[i])) / 1000,
                        platform_price=Decimal(int(platform[i])) / 1000,
                        member_per_litre=member,
                    )
                    done[key] = quote_price(fill_request, price, driver, promotions, policy, now)
                except ValueError:
                    done[key] = None
            found = done[key]
            if found is not None:
                out[pos] = found
        return out

    return engine_quote, int(member_cut * 1000)
