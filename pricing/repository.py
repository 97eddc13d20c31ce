"""Price reads and the zone tables: ladder rows as of a time, current prices in bulk, cheapest, statistics.

All SQL is parameterised; the long statements live in pricing/sql/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

from psycopg2.extras import execute_values
from sqlalchemy import Connection, Engine, text

from pricing.money import PRICE_QUANTUM
from pricing.validation import Context, Guide


def sql(name: str) -> str:
    return resources.files("pricing").joinpath("sql", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class PriceRow:
    tier: str  # 'guide' for the zone's guide price
    price: Decimal
    currency: str
    source: str
    effective_from: datetime
    confirmed_at: datetime
    zone_code: str | None
    grade: str


@dataclass(frozen=True)
class CurrentPrice:
    station_id: int
    grade: str
    tier: str
    price: Decimal
    currency: str
    confirmed_at: datetime


@dataclass(frozen=True)
class GradeStats:
    grade: str
    currency: str
    stations: int
    min: Decimal
    avg: Decimal
    max: Decimal


def contexts(cur: Any, keys: Sequence[tuple[int, str, datetime]]) -> list[Context]:
    """Guide, pump and platform in force at each (station_id, grade, at)."""
    if not keys:
        return []
    cur.execute(
        sql("context.sql"),
        (list(range(len(keys))), [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
    )
    out: list[Context] = [Context()] * len(keys)
    for r in cur.fetchall():
        guide = Guide(r[1], r[2], r[3], r[4], r[5]) if r[1] is not None else None
        out[int(r[0])] = Context(guide=guide, pump=r[6], platform=r[9])
    return out


def ladder_rows(conn: Connection, station_id: int, grade: str | None, as_of: datetime) -> list[PriceRow]:
    """The prices in force at as_of of one grade, or (grade None) of every grade."""
    rows = conn.execute(text(sql("ladder.sql")), {"station_id": station_id, "grade": grade, "as_of": as_of})
    return [PriceRow(*r) for r in rows]


def station_grades(conn: Connection, station_id: int) -> list[str] | None:
    """The grades the station sells, or None when the catalogue holds no such station."""
    found = conn.execute(text("SELECT grades FROM stations WHERE id = :id"), {"id": station_id}).first()
    return None if found is None else list(found[0])


def current_prices(engine: Engine) -> list[CurrentPrice]:
    """Every price in force now, for all stations (for in-memory indexes; stale ones included)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT station_id, grade, tier, price, currency, confirmed_at FROM station_prices "
                "WHERE effective_to IS NULL ORDER BY station_id, grade, tier"
            )
        )
        return [CurrentPrice(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]


def current_prices_of(conn: Connection, station_ids: Sequence[int]) -> list[CurrentPrice]:
    """The prices in force now of these stations (a change-log update of the price book)."""
    rows = conn.execute(
        text(
            "SELECT station_id, grade, tier, price, currency, confirmed_at FROM station_prices "
            "WHERE effective_to IS NULL AND station_id = ANY(:ids) ORDER BY station_id, grade, tier"
        ),
        {"ids": list(station_ids)},
    )
    return [CurrentPrice(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]


def price_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM price_version")).scalar_one())


def cheapest(
    engine: Engine,
    grade: str,
    as_of: datetime,
    fresh_since: datetime,
    *,
    tier: str,
    limit: int,
    include_stale: bool,
) -> list[CurrentPrice]:
    """Lowest prices of a grade in force at as_of; stale ones (confirmed before fresh_since) left out
    unless asked."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT station_id, grade, tier, price, currency, confirmed_at FROM station_prices "
                "WHERE grade = :grade AND tier = :tier AND effective_from <= :as_of "
                "AND (effective_to IS NULL OR effective_to > :as_of) "
                "AND (:include_stale OR confirmed_at >= :fresh_since) "
                "ORDER BY price, station_id LIMIT :limit"
            ),
            {
                "grade": grade,
                "tier": tier,
                "as_of": as_of,
                "fresh_since": fresh_since,
                "include_stale": include_stale,
                "limit": limit,
            },
        )
        return [CurrentPrice(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]


def regional_stats(
    engine: Engine,
    as_of: datetime,
    fresh_since: datetime,
    *,
    province: str | None,
    city: str | None,
    tier: str,
    include_stale: bool,
) -> list[GradeStats]:
    params = {
        "as_of": as_of,
        "fresh_since": fresh_since,
        "province": province,
        "city": city,
        "tier": tier,
        "include_stale": include_stale,
    }
    with engine.connect() as conn:
        rows = conn.execute(text(sql("regional_stats.sql")), params).all()
    return [
        GradeStats(
            r[0], r[1], int(r[2]), r[3], Decimal(r[4]).quantize(PRICE_QUANTUM[r[1]], ROUND_HALF_UP), r[5]
        )
        for r in rows
    ]


# ---- zones ----------------------------------------------------------------------------------------------


def upsert_zones(cur: Any, zones: Sequence[tuple[str, str, str, str, str | None]]) -> None:
    """(province_code, zone_code, province_name, zone_name, source_url) rows, replacing names and URLs."""
    if zones:
        execute_values(
            cur,
            "INSERT INTO price_zones (province_code, zone_code, province_name, zone_name, source_url) "
            "VALUES %s ON CONFLICT (province_code, zone_code) DO UPDATE SET province_name = "
            "EXCLUDED.province_name, zone_name = EXCLUDED.zone_name, source_url = EXCLUDED.source_url",
            zones,
        )


def upsert_regions(cur: Any, regions: Sequence[tuple[str, str, str, str | None]]) -> int:
    """(region, province_code, zone_code, locality) rows; returns how many were new or changed."""
    if not regions:
        return 0
    rows = execute_values(
        cur,
        "INSERT INTO price_zone_regions (region, province_code, zone_code, locality) VALUES %s "
        "ON CONFLICT (region) DO UPDATE SET province_code = EXCLUDED.province_code, "
        "zone_code = EXCLUDED.zone_code, locality = EXCLUDED.locality "
        "WHERE (price_zone_regions.province_code, price_zone_regions.zone_code, price_zone_regions.locality) "
        "IS DISTINCT FROM (EXCLUDED.province_code, EXCLUDED.zone_code, EXCLUDED.locality) RETURNING region",
        regions,
        fetch=True,
    )
    return len(rows)


def zone_tables(conn: Connection) -> tuple[list[Any], list[Any]]:
    """(price_zones rows, price_zone_regions rows)."""
    zones = conn.execute(
        text("SELECT province_code, zone_code, province_name, zone_name FROM price_zones")
    ).all()
    regions = conn.execute(
        text("SELECT region, province_code, zone_code, locality FROM price_zone_regions")
    ).all()
    return list(zones), list(regions)


def store_station_zones(
    cur: Any, rows: Sequence[tuple[int, str, str, str]], unresolved: Sequence[int], *, all_stations: bool
) -> int:
    """Upsert resolved zones (only rows that change), drop unresolved ones; returns rows changed."""
    changed = 0
    if rows:
        changed += len(
            execute_values(
                cur,
                "INSERT INTO station_price_zones (station_id, province_code, zone_code, resolved_by) "
                "VALUES %s "
                "ON CONFLICT (station_id) DO UPDATE SET province_code = EXCLUDED.province_code, "
                "zone_code = EXCLUDED.zone_code, resolved_by = EXCLUDED.resolved_by "
                "WHERE (station_price_zones.province_code, station_price_zones.zone_code, "
                "station_price_zones.resolved_by) IS DISTINCT FROM "
                "(EXCLUDED.province_code, EXCLUDED.zone_code, EXCLUDED.resolved_by) RETURNING station_id",
                rows,
                fetch=True,
            )
        )
    # bigint[] arrays: psycopg2 sends a list of ints as integer[], and `bigint = ANY(integer[])` is a
    # cross-type test PostgreSQL cannot hash, so every row was compared with every id (1,000,000 stations:
    # the national load's zone step ran for hours). Same-type arrays are hashed, `<> ALL` too (PostgreSQL
    # 15), whatever the statistics say (a join against unnest() was planned as a nested loop over rows
    # this very transaction inserted, which no statistics know yet).
    if unresolved:
        cur.execute(
            "DELETE FROM station_price_zones WHERE station_id = ANY(%s::bigint[])", (list(unresolved),)
        )
        changed += cur.rowcount
    if all_stations:
        cur.execute(
            "DELETE FROM station_price_zones WHERE station_id <> ALL(%s::bigint[])", ([r[0] for r in rows],)
        )
        changed += cur.rowcount
    return changed
