"""What a driver pays for a fill at one station: the ladder's prices, the driver's promotions, the engine.

Everything is read in one connection at one instant, so a quote reflects one consistent state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from geo.errors import StationNotFound
from pricing import repository, store
from pricing.breakdown import Breakdown, LineKind
from pricing.context import DriverContext, PriceContext
from pricing.fills import FillRequest
from pricing.money import per_litre_amount, price_per_litre
from pricing.promotions import quote_price
from pricing.texts import Language, member_line
from pricing.validation import DEFAULT_RULES, Rules, is_stale


class PriceUnavailable(LookupError):
    """The station has no current, fresh pump price for the grade (or the station does not exist)."""


@dataclass(frozen=True)
class PricingRequest:
    station_id: int
    grade: str
    fill: FillRequest
    at: datetime
    driver_id: str | None = None
    payment_channels: frozenset[str] = frozenset()
    use_points: bool = True
    coupons: tuple[str, ...] | None = None  # the driver's choice: None = the best set, () = none


def price_context(
    conn: Connection, station_id: int, grade: str, at: datetime, rules: Rules = DEFAULT_RULES
) -> PriceContext:
    station = (
        conn.execute(
            text("SELECT brand, adcode, city, status FROM stations WHERE id = :id"), {"id": station_id}
        )
        .mappings()
        .first()
    )
    if station is None:
        raise StationNotFound(station_id)
    if station["status"] == "closed":
        raise PriceUnavailable(f"station {station_id} is closed")
    tiers = {row.tier: row for row in repository.ladder_rows(conn, station_id, grade, at)}
    pump = tiers.get("pump")
    if pump is None:
        raise PriceUnavailable(f"station {station_id} has no {grade} price in force")
    if is_stale(pump.confirmed_at, at, rules):
        raise PriceUnavailable(
            f"station {station_id}'s {grade} price was last confirmed {pump.confirmed_at.isoformat()}: stale"
        )
    platform = tiers.get("platform")
    fresh_platform = platform is not None and not is_stale(platform.confirmed_at, at, rules)
    pump_price = price_per_litre(pump.price, pump.currency)
    platform_price = (
        price_per_litre(platform.price, pump.currency) if platform and fresh_platform else pump_price
    )
    return PriceContext(
        station_id=str(station_id),
        brand=station["brand"],
        city=station["adcode"] or "",
        city_name=station["city"],
        grade=grade,
        pump_price=pump_price,
        platform_price=min(platform_price, pump_price),
        currency=pump.currency,
        member_per_litre=store.member_per_litre(conn, grade),
    )


def driver_context(conn: Connection, request: PricingRequest) -> DriverContext:
    if request.driver_id is None:
        return DriverContext(driver_id="", use_points=False)
    return store.load_driver_context(
        conn,
        request.driver_id,
        request.at,
        payment_channels=request.payment_channels,
        use_points=request.use_points,
    )


def for_the_driver(
    conn: Connection, price: PriceContext, breakdown: Breakdown, language: Language
) -> Breakdown:
    """The breakdown with its member line named as the driver reads it: the operator's display name of
    the level (in `language` when the operator gave one), never the level's code."""
    lines = []
    for line in breakdown.lines:
        if line.kind is LineKind.MEMBER:
            names, _ = store.member_level_view(conn, line.rule_id)
            name = (
                line.rule_id if names is None else (names[1] if language == "en" and names[1] else names[0])
            )
            cut = per_litre_amount(price.member_discount(line.rule_id))
            line = dataclasses.replace(line, description=member_line(name, price.grade, cut, language))
        lines.append(line)
    return dataclasses.replace(breakdown, lines=tuple(lines))


def effective_price(conn: Connection, request: PricingRequest) -> tuple[PriceContext, Breakdown]:
    """The itemised price this driver pays (no driver: the platform price, no promotions)."""
    price_ctx = price_context(conn, request.station_id, request.grade, request.at)
    driver = driver_context(conn, request)
    policy, points = store.load_policy(conn)
    promotions = store.load_promotions(conn, request.at)
    if request.driver_id is None:
        promotions = type(promotions)(payment=(), points=None)
    return price_ctx, quote_price(
        request.fill, price_ctx, driver, promotions, policy, request.at, request.coupons
    )
