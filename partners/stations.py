"""Stations as a partner receives them: the record, current prices and that partner's own POI id (never
another partner's), coordinates in the partner's system. Rows are rendered in batches (one vectorised
coordinate conversion per batch) so a snapshot of the whole country streams in constant memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, text

from geo.coords import CoordSystem, from_wgs84

_SQL = resources.files("partners").joinpath("sql", "partner_stations.sql").read_text(encoding="utf-8")
_BY_IDS = text(_SQL + " WHERE s.id = ANY(:ids) ORDER BY s.id")
_ALL = text(_SQL + " ORDER BY s.id")
BATCH = 2_000


def _prices(row: Any) -> list[dict[str, str]]:
    if row.price_grades is None:
        return []
    return [
        {
            "grade": grade,
            "tier": tier,
            "price": price,  # texts from the SQL (partner_stations.sql)
            "currency": currency,
            "effective_from": effective_from,
            "confirmed_at": confirmed_at,
        }
        for grade, tier, price, currency, effective_from, confirmed_at in zip(
            row.price_grades,
            row.price_tiers,
            row.price_values,
            row.price_currencies,
            row.price_effective_from,
            row.price_confirmed_at,
            strict=True,
        )
    ]


def render(rows: Sequence[Any], coord: CoordSystem) -> list[dict[str, Any]]:
    """JSON-ready station objects of rows of partner_stations.sql, located in `coord` (to 1e-6°)."""
    if not rows:
        return []
    lon, lat = from_wgs84(
        np.array([float(r.lon) for r in rows]), np.array([float(r.lat) for r in rows]), coord
    )
    out = []
    for i, r in enumerate(rows):
        out.append(
            {
                "id": int(r.id),
                "poi_id": r.poi_id,
                "name": r.name,
                "brand": r.brand,
                "address": r.address,
                "province": r.province,
                "city": r.city,
                "county": r.county,
                "adcode": r.adcode,
                "location": {"lon": round(float(lon[i]), 6), "lat": round(float(lat[i]), 6)},
                "status": r.status,
                "grades": list(r.grades),
                "services": list(r.services),
                "timezone": r.timezone,
                "opening_hours": orjson.loads(r.opening_hours) if r.opening_hours else None,
                "updated_at": r.updated_at,
                "prices": _prices(r),
            }
        )
    return out


def stations_of(
    conn: Connection, ids: Sequence[int], partner_id: int, coord: CoordSystem
) -> dict[int, dict[str, Any]]:
    """The current records of these stations (absent: deleted), by id."""
    if not ids:
        return {}
    rows = list(conn.execute(_BY_IDS, {"ids": list(ids), "partner_id": partner_id}))
    return {s["id"]: s for s in render(rows, coord)}


def every_station(conn: Connection, partner_id: int, coord: CoordSystem) -> Iterator[list[dict[str, Any]]]:
    """Every station in id order, in batches, read through a server-side cursor (never all in memory)."""
    result = conn.execution_options(stream_results=True, max_row_buffer=BATCH).execute(
        _ALL, {"partner_id": partner_id}
    )
    try:
        while batch := result.fetchmany(BATCH):
            yield render(batch, coord)
    finally:
        result.close()
