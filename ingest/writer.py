"""Batched, idempotent writes of parsed stations into the catalogue.

Each batch is one transaction: a crash mid-file leaves whole batches only, and a re-run finishes the job.
Per batch: one lookup of all (source, external_id) pairs, then bulk statements (execute_values) for the
new stations, their identifiers, fueling positions and nozzles. All values are bound parameters.

Matching: a known identifier whose record hash is unchanged -> unchanged. Changed -> if this identifier
owns the station's content (its stored hash is NULL or equals stations.content_hash), the stations row is
updated and its positions/nozzles replaced; otherwise (an identifier linked onto another source's
station) only its remembered hash moves. Both count as updated. New identifiers are linked to an
existing station of another source within `link_within_m` metres with the same brand, else inserted.
'private' (no brand recognised in the name, e.g. Baidu's "加油站(古猗园路)") is compatible with any brand;
a same-brand candidate wins over a 'private' one, then the nearest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg2.extras import execute_batch, execute_values
from sqlalchemy import Engine

from geo.records import StationRecord
from ingest.items import Parsed

_STATION_VALUES = (
    "%s, %s, %s, %s, %s, %s, %s, ST_GeomFromEWKT(%s), %s, %s, %s, %s, %s::jsonb, %s::text[], %s::text[], "
    "%s, %s"
)
_INSERT_STATIONS = """
INSERT INTO stations (id, name, brand, address, province, city, county, adcode, geom, h3_r5, h3_r7, h3_r9,
                      timezone, opening_hours, services, grades, status, content_hash)
VALUES %s
"""
_UPDATE_STATION = """
UPDATE stations SET (name, brand, address, province, city, county, adcode, geom, h3_r5, h3_r7, h3_r9,
                     timezone, opening_hours, services, grades, status, content_hash, updated_at)
  = (%s, %s, %s, %s, %s, %s, %s, ST_GeomFromEWKT(%s), %s, %s, %s, %s, %s::jsonb, %s::text[], %s::text[],
     %s, %s, now())
WHERE id = %s
"""
_LOOKUP = """
SELECT si.source, si.external_id, si.station_id, si.content_hash, s.content_hash
FROM unnest(%s::text[], %s::text[]) AS k(source, external_id)
JOIN station_identifiers si ON si.source = k.source AND si.external_id = k.external_id
JOIN stations s ON s.id = si.station_id
"""
# Taken first in every batch, in the order the demo loader locks them exclusively: the lookup alone would
# take station_identifiers before stations, and deadlock with a loader holding stations and waiting for it.
_LOCKS = "LOCK TABLE stations, station_identifiers, fueling_positions, nozzles IN ROW EXCLUSIVE MODE"
_NEAREST = """
SELECT t.i, m.id
FROM unnest(%s::int[], %s::text[], %s::text[], %s::float8[], %s::float8[], %s::float8[])
     AS t(i, source, brand, lon, lat, deg)
CROSS JOIN LATERAL (
    SELECT s.id FROM stations s
    WHERE (s.brand = t.brand OR s.brand = 'private' OR t.brand = 'private')
      AND s.geom && ST_Expand(ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326), t.deg)
      AND ST_DWithin(s.geom::geography, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography, %s)
      AND NOT EXISTS (
          SELECT 1 FROM station_identifiers si WHERE si.station_id = s.id AND si.source = t.source)
    ORDER BY s.brand <> t.brand,
             ST_Distance(s.geom::geography, ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326)::geography)
    LIMIT 1
) AS m
"""


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0

    def add(self, other: Counts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.linked += other.linked


AfterBatch = Callable[[int, Counts], None]


def _station_values(record: StationRecord) -> tuple[Any, ...]:
    row = record.station_row()
    hours = orjson.dumps(row["opening_hours"]).decode() if row["opening_hours"] is not None else None
    return (
        row["name"],
        row["brand"],
        row["address"],
        row["province"],
        row["city"],
        row["county"],
        row["adcode"],
        row["geom"],
        row["h3_r5"],
        row["h3_r7"],
        row["h3_r9"],
        row["timezone"],
        hours,
        row["services"],
        row["grades"],
        row["status"],
        row["content_hash"],
    )


def _next_ids(cur: Any, table: str, count: int) -> list[int]:
    if count == 0:
        return []
    cur.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", (table, count)
    )
    return [int(r[0]) for r in cur.fetchall()]


def _write_positions(cur: Any, stations: Sequence[tuple[int, StationRecord]]) -> None:
    with_positions = [(sid, rec) for sid, rec in stations if rec.positions]
    total = sum(len(rec.positions) for _, rec in with_positions)
    ids = iter(_next_ids(cur, "fueling_positions", total))
    positions: list[tuple[int, int, int]] = []
    nozzles: list[tuple[int, int, str]] = []
    for station_id, record in with_positions:
        for number, grades in enumerate(record.positions, 1):
            position_id = next(ids)
            positions.append((position_id, station_id, number))
            nozzles.extend((position_id, n, grade) for n, grade in enumerate(grades, 1))
    if positions:
        execute_values(cur, "INSERT INTO fueling_positions (id, station_id, number) VALUES %s", positions)
        execute_values(cur, "INSERT INTO nozzles (position_id, number, grade) VALUES %s", nozzles)


class Writer:
    def __init__(
        self, engine: Engine, *, link_within_m: float = 0.0, after_batch: AfterBatch | None = None
    ) -> None:
        self.engine = engine
        self.link_within_m = link_within_m
        self.after_batch = after_batch
        self.batches = 0

    def write(self, batch: Sequence[Parsed]) -> Counts:
        counts = Counts()
        if batch:
            with self.engine.begin() as conn:
                cur = conn.connection.cursor()
                try:
                    self._write(cur, batch, counts)
                finally:
                    cur.close()
        self.batches += 1
        if self.after_batch is not None:
            self.after_batch(self.batches, counts)
        return counts

    def _write(self, cur: Any, batch: Sequence[Parsed], counts: Counts) -> None:
        keys = [item.key for item in batch]
        cur.execute(_LOCKS)
        cur.execute(_LOOKUP, ([k[0] for k in keys], [k[1] for k in keys]))
        known = {(r[0], r[1]): (int(r[2]), r[3], r[4]) for r in cur.fetchall()}
        owned: list[tuple[int, StationRecord]] = []
        rehash: list[tuple[str, str, str]] = []
        new: list[StationRecord] = []
        for item in batch:
            record, digest = item.record, item.record.content_hash()
            if item.key not in known:
                new.append(record)
                continue
            station_id, ident_hash, station_hash = known[item.key]
            if (ident_hash or station_hash) == digest:
                counts.unchanged += 1
                continue
            counts.updated += 1
            rehash.append((digest, *item.key))
            if ident_hash is None or ident_hash == station_hash:
                owned.append((station_id, record))
        if owned:
            execute_batch(
                cur,
                _UPDATE_STATION,
                [(*_station_values(rec), sid) for sid, rec in owned],
            )
            cur.execute(
                "DELETE FROM fueling_positions WHERE station_id = ANY(%s)", ([sid for sid, _ in owned],)
            )
            _write_positions(cur, owned)
        if rehash:
            execute_batch(
                cur,
                "UPDATE station_identifiers SET content_hash = %s WHERE source = %s AND external_id = %s",
                rehash,
            )
        links = self._links(cur, new) if self.link_within_m > 0 and new else {}
        identifiers = [
            (*rec.identifiers[0], links[i], rec.content_hash()) for i, rec in enumerate(new) if i in links
        ]
        counts.linked += len(identifiers)
        fresh = [rec for i, rec in enumerate(new) if i not in links]
        ids = _next_ids(cur, "stations", len(fresh))
        if fresh:
            execute_values(
                cur,
                _INSERT_STATIONS,
                [(sid, *_station_values(rec)) for sid, rec in zip(ids, fresh, strict=True)],
                template="(%s, " + _STATION_VALUES + ")",
            )
            identifiers += [
                (*rec.identifiers[0], sid, rec.content_hash()) for sid, rec in zip(ids, fresh, strict=True)
            ]
            _write_positions(cur, list(zip(ids, fresh, strict=True)))
            counts.inserted += len(fresh)
        if identifiers:
            execute_values(
                cur,
                "INSERT INTO station_identifiers (source, external_id, station_id, content_hash) VALUES %s",
                identifiers,
            )

    def _links(self, cur: Any, new: Sequence[StationRecord]) -> dict[int, int]:
        """Index in `new` -> existing station id to attach to (each station claimed at most once)."""
        margin = self.link_within_m / 110_000.0
        cur.execute(
            _NEAREST,
            (
                list(range(len(new))),
                [rec.identifiers[0][0] for rec in new],
                [rec.brand for rec in new],
                [rec.lon for rec in new],
                [rec.lat for rec in new],
                [margin / max(math.cos(math.radians(rec.lat)), 0.01) for rec in new],
                self.link_within_m,
            ),
        )
        links: dict[int, int] = {}
        for index, station_id in sorted(cur.fetchall()):
            if station_id not in links.values():
                links[int(index)] = int(station_id)
        return links
