"""Shared by the map tests: a synthetic network over real PostGIS and brute-force answers read from it."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, text

from geo import coords
from geo.mercator import tile_box, to_mercator
from geo.records import StationRecord
from tests.geo.synthetic import rows
from tests.support import LiveServer, insert_records

KUNMING = (102.71, 25.04)


def network(engine: Engine, server: LiveServer, n: int = 1500, seed: int = 14) -> list[int]:
    """n synthetic stations (city clusters, sparse scatter, duplicates), a tenth temporarily closed and
    every 25th closed."""
    records = []
    for i, r in enumerate(rows(n, seed=seed)):
        status = "closed" if i % 25 == 0 else "temporarily_closed" if i % 10 == 3 else "open"
        records.append(
            StationRecord(
                name=r["name"] + " 加油站,&|",
                brand=r["brand"],
                lon=r["lon"],
                lat=r["lat"],
                grades=tuple(r["grades"]),
                status=status,
            )
        )
    ids = insert_records(engine, records)
    server.wait_for_catalogue()
    return ids


def positions(engine: Engine, system: coords.CoordSystem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, lons, lats) of every searchable station, positions in `system`, straight from PostGIS."""
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT id, ST_X(geom), ST_Y(geom) FROM stations WHERE status <> 'closed' ORDER BY id")
        ).all()
    ids = np.asarray([r[0] for r in found], dtype=np.int64)
    lon = np.asarray([r[1] for r in found], dtype=np.float64)
    lat = np.asarray([r[2] for r in found], dtype=np.float64)
    x, y = coords.from_wgs84(lon, lat, system)
    return ids, x, y


def in_box(
    engine: Engine, system: coords.CoordSystem, west: float, south: float, east: float, north: float
) -> list[int]:
    ids, x, y = positions(engine, system)
    inside = (x >= west) & (x <= east) & (y >= south) & (y <= north)
    return [int(i) for i in ids[inside]]


def in_tile(engine: Engine, system: coords.CoordSystem, z: int, tx: int, ty: int) -> list[int]:
    ids, x, y = positions(engine, system)
    mx, my = to_mercator(x, y)
    x0, y0, x1, y1 = tile_box(z, tx, ty)
    inside = (mx >= x0) & (mx < x1) & (my >= y0) & (my < y1)
    return [int(i) for i in ids[inside]]
