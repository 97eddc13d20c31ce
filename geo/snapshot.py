"""An immutable, columnar copy of the searchable catalogue, built from database rows.

Each worker holds one snapshot and swaps it for a new one when the catalogue version changes.
Arrays are indexed by a station's position in the snapshot (not by its id).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from geo import coords
from geo.brands import brand_name
from geo.distance import ecef
from geo.grades import GRADE_BITS
from geo.hours import OpeningHours
from geo.keywords import station_text
from geo.regions import RegionBook
from geo.services import service_mask

STATUS_CODES = {"open": 0, "temporarily_closed": 1, "closed": 2}
UNKNOWN_HOURS = -1


@dataclass(frozen=True)
class Schedules:
    """Distinct opening-hour schedules, flattened for vectorised evaluation."""

    always_open: np.ndarray  # bool, per schedule
    interval_schedule: np.ndarray  # int32, per interval
    interval_start: np.ndarray  # int32 minute of week
    interval_end: np.ndarray  # int32

    def open_at(self, minute_of_week: int) -> np.ndarray:
        hit = (self.interval_start <= minute_of_week) & (minute_of_week < self.interval_end)
        counts = np.bincount(self.interval_schedule[hit], minlength=len(self.always_open))
        result: np.ndarray = (counts > 0) | self.always_open
        return result


@dataclass(eq=False)
class Snapshot:
    """Columnar stations; geo/patch.py updates a station in place (on the event loop) as the change log
    reports it, so `version` is the catalogue version the snapshot shows now."""

    version: int
    ids: np.ndarray  # int64
    xyz: np.ndarray  # (n, 3) ECEF metres
    lonlat: dict[coords.CoordSystem, tuple[np.ndarray, np.ndarray]]
    brand: np.ndarray  # int32 code into brands
    brands: tuple[str, ...]
    grade_mask: np.ndarray  # int64 bit set, see geo.grades.GRADE_BITS
    status: np.ndarray  # int8, STATUS_CODES
    schedule: np.ndarray  # int32 schedule number, UNKNOWN_HOURS when unknown
    timezone: np.ndarray  # int16 code into timezones
    timezones: tuple[str, ...]
    schedules: Schedules
    fragments: list[bytes]  # static JSON members of each station, without braces
    services: np.ndarray  # int64 bit set, see geo.services.SERVICE_BITS
    texts: list[str]  # name and address for keyword search (geo.keywords.station_text)
    region: np.ndarray  # int32 place code of the regions book
    regions: RegionBook
    buckets: dict[int, dict[int, np.ndarray]] = field(repr=False)  # res -> cell -> positions
    # (origin cell, k) -> (positions in grid_disk(origin, k), distance bound, origin centre); see geo.nearby
    disk_cache: dict[tuple[int, int], Any] = field(default_factory=dict, repr=False, compare=False)
    # opening-hours JSON text -> schedule code (geo/patch.py reuses a code for hours it has seen)
    schedule_codes: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    # origin cell -> the search step that answered there last (geo.nearby)
    step_hints: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    # structures derived from the stations and kept with them (geo/cluster_grid.py): name -> value
    derived: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    def brand_code(self, brand: str) -> int:
        try:
            return self.brands.index(brand)
        except ValueError:
            return -1


def place_code(regions: RegionBook, row: dict[str, Any]) -> int:
    return regions.code(row.get("province"), row.get("city"), row.get("county"), row.get("adcode"))


def fragment(row: dict[str, Any]) -> bytes:
    body = orjson.dumps(
        {
            "id": row["id"],
            "name": row["name"],
            "brand": row["brand"],
            "brand_name": brand_name(row["brand"]),
            "address": row["address"],
            "grades": row["grades"],
            "status": row["status"],
        }
    )
    return body[1:-1]


def _buckets(cells: np.ndarray) -> dict[int, np.ndarray]:
    if not len(cells):
        return {}
    order = np.argsort(cells, kind="stable")
    sorted_cells = cells[order]
    unique, starts = np.unique(sorted_cells, return_index=True)
    ends = np.append(starts[1:], len(sorted_cells))
    return {
        int(c): order[s:e] for c, s, e in zip(unique.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }


def build_snapshot(rows: Iterable[dict[str, Any]], version: int) -> Snapshot:
    """Rows carry id, lon, lat, h3_r5, h3_r7, name, brand, address, grades, status, opening_hours (JSON text
    or None) and timezone; closed stations should already be left out by the query."""
    ids: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    r5: list[int] = []
    r7: list[int] = []
    brand_of: dict[str, int] = {}
    brand_codes: list[int] = []
    masks: list[int] = []
    statuses: list[int] = []
    tz_of: dict[str, int] = {}
    tz_codes: list[int] = []
    schedule_of_text: dict[str, int] = {}
    schedule_of_key: dict[tuple[bool, tuple[tuple[int, int], ...]], int] = {}
    schedule_codes: list[int] = []
    fragments: list[bytes] = []
    services: list[int] = []
    texts: list[str] = []
    regions = RegionBook()
    region: list[int] = []
    for row in rows:
        ids.append(row["id"])
        lons.append(row["lon"])
        lats.append(row["lat"])
        r5.append(row["h3_r5"])
        r7.append(row["h3_r7"])
        brand_codes.append(brand_of.setdefault(row["brand"], len(brand_of)))
        mask = 0
        for grade in row["grades"]:
            bit = GRADE_BITS.get(grade)
            if bit is not None:
                mask |= 1 << bit
        masks.append(mask)
        statuses.append(STATUS_CODES[row["status"]])
        tz_codes.append(tz_of.setdefault(row["timezone"], len(tz_of)))
        hours_text = row["opening_hours"]
        if hours_text is None:
            schedule_codes.append(UNKNOWN_HOURS)
        else:
            code = schedule_of_text.get(hours_text)
            if code is None:
                hours = OpeningHours.from_json(orjson.loads(hours_text))
                key = (hours.always_open, hours.week)
                code = schedule_of_key.setdefault(key, len(schedule_of_key))
                schedule_of_text[hours_text] = code
            schedule_codes.append(code)
        fragments.append(fragment(row))
        services.append(service_mask(row.get("services") or ()))
        texts.append(station_text(row["name"], row["address"]))
        region.append(place_code(regions, row))

    lon = np.asarray(lons, dtype=np.float64)
    lat = np.asarray(lats, dtype=np.float64)
    lonlat = {coords.CoordSystem.WGS84: (lon, lat)}
    for system in (coords.CoordSystem.GCJ02, coords.CoordSystem.BD09):
        lonlat[system] = coords.from_wgs84(lon, lat, system) if len(lon) else (lon, lat)

    always = np.zeros(len(schedule_of_key), dtype=bool)
    iv_sched: list[int] = []
    iv_start: list[int] = []
    iv_end: list[int] = []
    for (always_open, week), code in schedule_of_key.items():
        always[code] = always_open
        for start, end in week:
            iv_sched.append(code)
            iv_start.append(start)
            iv_end.append(end)

    return Snapshot(
        version=version,
        ids=np.asarray(ids, dtype=np.int64),
        xyz=ecef(lon, lat) if len(lon) else np.empty((0, 3)),
        lonlat=lonlat,
        brand=np.asarray(brand_codes, dtype=np.int32),
        brands=tuple(brand_of),
        grade_mask=np.asarray(masks, dtype=np.int64),
        status=np.asarray(statuses, dtype=np.int8),
        schedule=np.asarray(schedule_codes, dtype=np.int32),
        timezone=np.asarray(tz_codes, dtype=np.int16),
        timezones=tuple(tz_of),
        schedules=Schedules(
            always_open=always,
            interval_schedule=np.asarray(iv_sched, dtype=np.int32),
            interval_start=np.asarray(iv_start, dtype=np.int32),
            interval_end=np.asarray(iv_end, dtype=np.int32),
        ),
        fragments=fragments,
        services=np.asarray(services, dtype=np.int64),
        texts=texts,
        region=np.asarray(region, dtype=np.int32),
        regions=regions,
        buckets={5: _buckets(np.asarray(r5, dtype=np.int64)), 7: _buckets(np.asarray(r7, dtype=np.int64))},
        schedule_codes=schedule_of_text,
    )
