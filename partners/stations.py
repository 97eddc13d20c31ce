"""Stations as a partner receives them: the record, current prices and that partner's own POI id (never
another partner's), coordinates in the partner's system. PostgreSQL writes each station's JSON text
(sql/partner_stations.sql) but for its location, converted here in batches (one vectorised coordinate
conversion per batch), so a snapshot of the whole country streams in constant memory and costs the worker
little more than joining bytes."""

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


def lines(rows: Sequence[Any], coord: CoordSystem) -> list[bytes]:
    """Each row's station as JSON text (the SQL's two parts around its location), located in `coord` to
    1e-6° (one vectorised conversion for the rows; numbers as orjson writes them)."""
    if not rows:
        return []
    lon, lat = from_wgs84(
        np.array([float(r.lon) for r in rows]), np.array([float(r.lat) for r in rows]), coord
    )
    return [
        b'%s,"location":{"lon":%s,"lat":%s},%s'
        % (r.head.encode(), orjson.dumps(round(x, 6)), orjson.dumps(round(y, 6)), r.tail.encode())
        for r, x, y in zip(rows, lon.tolist(), lat.tolist(), strict=True)
    ]


def stations_of(
    conn: Connection, ids: Sequence[int], partner_id: int, coord: CoordSystem
) -> dict[int, dict[str, Any]]:
    """The current records of these stations (absent: deleted), by id."""
    if not ids:
        return {}
    rows = list(conn.execute(_BY_IDS, {"ids": list(ids), "partner_id": partner_id}))
    return {s["id"]: s for s in map(orjson.loads, lines(rows, coord))}


def every_station(conn: Connection, partner_id: int, coord: CoordSystem) -> Iterator[list[bytes]]:
    """Every station's JSON text in id order, in batches, read through a server-side cursor (never all in
    memory)."""
    result = conn.execution_options(stream_results=True, max_row_buffer=BATCH).execute(
        _ALL, {"partner_id": partner_id}
    )
    try:
        while batch := result.fetchmany(BATCH):
            yield lines(batch, coord)
    finally:
        result.close()
