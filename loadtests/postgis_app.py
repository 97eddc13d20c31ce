"""The plain PostGIS way: one KNN query per request over an asyncpg pool, for comparison only.

It answers the service's nearby shape (api/schemas.py NearbyPage, without cursors). GiST KNN on
geometry(4326) orders by degrees, which gives the true nearest stations only ~95% of the time
(PERF-NOTES), so the query takes twice `limit` candidates and re-ranks them by geodesic distance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from fastapi import FastAPI, Query, Request, Response

from api.settings import Settings
from geo.brands import brand_name
from geo.coords import CoordSystem, from_wgs84, to_wgs84, validate_lon_lat
from geo.errors import InvalidCoordinates
from geo.hours import OpeningHours

POOL_SIZE = 8
CANDIDATE_FACTOR = 2

KNN_SQL = """
WITH q AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS pt),
candidates AS (
    SELECT s.id, s.name, s.brand, s.address, s.grades, s.status, s.opening_hours, s.timezone, s.geom
    FROM stations AS s
    WHERE s.status <> 'closed'
    ORDER BY s.geom <-> (SELECT pt FROM q)
    LIMIT $3
),
ranked AS (
    SELECT c.*, ST_Distance(c.geom::geography, q.pt::geography) AS distance_m
    FROM candidates AS c, q
)
SELECT id, name, brand, address, grades, status, opening_hours::text AS opening_hours, timezone,
       ST_X(geom) AS lon, ST_Y(geom) AS lat, distance_m,
       (SELECT version FROM catalogue_version) AS catalogue_version
FROM ranked
WHERE distance_m <= $4
ORDER BY distance_m, id
LIMIT $5
"""


def _json(content: Any, status_code: int = 200) -> Response:
    return Response(content=orjson.dumps(content), status_code=status_code, media_type="application/json")


def _open_now(row: asyncpg.Record, now: datetime) -> bool | None:
    if row["status"] != "open":
        return False
    if row["opening_hours"] is None:
        return None
    hours = OpeningHours.from_json(orjson.loads(row["opening_hours"]))
    return hours.is_open(now.astimezone(ZoneInfo(row["timezone"])))


def _item(row: asyncpg.Record, system: CoordSystem, now: datetime) -> dict[str, Any]:
    lon, lat = from_wgs84(row["lon"], row["lat"], system)
    return {
        "id": row["id"],
        "name": row["name"],
        "brand": row["brand"],
        "brand_name": brand_name(row["brand"]),
        "address": row["address"],
        "grades": list(row["grades"]),
        "status": row["status"],
        "location": {"lon": round(lon, 6), "lat": round(lat, 6)},
        "distance_m": round(row["distance_m"], 1),
        "open_now": _open_now(row, now),
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(settings.dsn(), min_size=POOL_SIZE, max_size=POOL_SIZE)
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(title="nearby via PostGIS", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/v1/stations/nearby")
    async def nearby_postgis(
        request: Request,
        lat: Annotated[float, Query(ge=-90, le=90)],
        lon: Annotated[float, Query(ge=-180, le=180)],
        coord: str = "wgs84",
        radius_m: Annotated[float, Query(gt=0, le=50_000)] = 5_000,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Response:
        try:
            system = CoordSystem.parse(coord)
            validate_lon_lat(lon, lat)
        except InvalidCoordinates as exc:
            return _json({"title": "Invalid coordinates", "detail": str(exc)}, 422)
        wlon, wlat = to_wgs84(lon, lat, system)
        rows = await request.app.state.pool.fetch(
            KNN_SQL, wlon, wlat, limit * CANDIDATE_FACTOR, radius_m, limit
        )
        now = datetime.now(UTC)
        return _json(
            {
                "coord": system.value,
                "origin": {"lon": lon, "lat": lat},
                "radius_m": radius_m,
                "as_of": now.isoformat(timespec="seconds"),
                "catalogue_version": rows[0]["catalogue_version"] if rows else None,
                "count": len(rows),
                "next_cursor": None,
                "items": [_item(row, system, now) for row in rows],
            }
        )

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        try:
            await request.app.state.pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError) as exc:
            return _json({"status": "unavailable", "reasons": [type(exc).__name__]}, 503)
        return _json({"status": "ok"})

    return app
