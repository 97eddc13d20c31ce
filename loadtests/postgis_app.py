"""The plain PostGIS way: one KNN query per request over an asyncpg pool, for comparison only.

GiST KNN on geometry(4326) orders by degrees, which gives the true nearest stations only ~95% of the
time (PERF-NOTES), so the query takes twice `limit` candidates and re-ranks them by geodesic distance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import FastAPI, Query, Request, Response

from api.settings import Settings
from geo.coords import CoordSystem, from_wgs84, to_wgs84, validate_lon_lat
from geo.errors import InvalidCoordinates

POOL_SIZE = 8
CANDIDATE_FACTOR = 2

KNN_SQL = """
WITH q AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS pt),
candidates AS (
    SELECT s.id, s.name, s.brand, s.address, s.grades, s.geom
    FROM stations AS s
    ORDER BY s.geom <-> (SELECT pt FROM q)
    LIMIT $3
),
ranked AS (
    SELECT c.*, ST_Distance(c.geom::geography, q.pt::geography) AS distance_m
    FROM candidates AS c, q
)
SELECT id, name, brand, address, grades, ST_X(geom) AS lon, ST_Y(geom) AS lat, distance_m
FROM ranked
WHERE distance_m <= $4
ORDER BY distance_m, id
LIMIT $5
"""


def _json(content: Any, status_code: int = 200) -> Response:
    return Response(content=orjson.dumps(content), status_code=status_code, media_type="application/json")


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
        lat: float,
        lon: float,
        coord: str = "wgs84",
        radius_m: Annotated[float, Query(gt=0, le=50_000)] = 5_000,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> Response:
        try:
            system = CoordSystem.parse(coord)
            validate_lon_lat(lon, lat)
        except InvalidCoordinates as exc:
            return _json({"error": "invalid_coordinates", "detail": str(exc)}, 422)
        wlon, wlat = to_wgs84(lon, lat, system)
        rows = await request.app.state.pool.fetch(
            KNN_SQL, wlon, wlat, limit * CANDIDATE_FACTOR, radius_m, limit
        )
        items = []
        for row in rows:
            out_lon, out_lat = from_wgs84(row["lon"], row["lat"], system)
            items.append(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "brand": row["brand"],
                    "address": row["address"],
                    "location": {"lon": round(out_lon, 7), "lat": round(out_lat, 7)},
                    "distance_m": round(row["distance_m"], 1),
                    "grades": list(row["grades"]),
                }
            )
        return _json({"coord": system.value, "items": items})

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        try:
            await request.app.state.pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError) as exc:
            return _json({"status": "unavailable", "reasons": [type(exc).__name__]}, 503)
        return _json({"status": "ok"})

    return app
