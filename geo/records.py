"""A station as the catalogue stores it, independent of where it came from (feed, demo generator, API).

Coordinates here are always WGS-84 (lon, lat): adapters convert GCJ-02/BD-09 before building a record.
`content_hash` covers everything a source says about a station, so a re-ingest can tell
'unchanged' from 'updated' without comparing column by column.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from geo.cells import cells_of
from geo.hours import OpeningHours


@dataclass(frozen=True)
class StationRecord:
    name: str
    brand: str
    lon: float
    lat: float
    address: str = ""
    province: str | None = None
    city: str | None = None
    county: str | None = None
    adcode: str | None = None
    timezone: str = "Asia/Shanghai"
    opening_hours: OpeningHours | None = None
    services: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    status: str = "open"
    # positions[i] lists the grade of each nozzle of fueling position i+1, nozzle j+1.
    positions: tuple[tuple[str, ...], ...] = ()
    # (source, external_id) pairs; the first is the identity this record is ingested under.
    identifiers: tuple[tuple[str, str], ...] = field(default=())

    def all_grades(self) -> tuple[str, ...]:
        """Declared grades plus every nozzle grade, sorted, without repeats."""
        found = set(self.grades)
        for nozzles in self.positions:
            found.update(nozzles)
        return tuple(sorted(found))

    def content(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "brand": self.brand,
            "lon": round(self.lon, 7),
            "lat": round(self.lat, 7),
            "address": self.address,
            "province": self.province,
            "city": self.city,
            "county": self.county,
            "adcode": self.adcode,
            "timezone": self.timezone,
            "opening_hours": self.opening_hours.to_json() if self.opening_hours else None,
            "services": sorted(self.services),
            "grades": list(self.all_grades()),
            "status": self.status,
            "positions": [list(p) for p in self.positions],
        }

    def content_hash(self) -> str:
        return hashlib.sha256(orjson.dumps(self.content(), option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]

    def station_row(self) -> dict[str, Any]:
        """Column values for the stations table (geom as EWKT; bind it with ST_GeomFromEWKT)."""
        cells = cells_of(self.lon, self.lat)
        return {
            "name": self.name,
            "brand": self.brand,
            "address": self.address,
            "province": self.province,
            "city": self.city,
            "county": self.county,
            "adcode": self.adcode,
            "geom": f"SRID=4326;POINT({self.lon!r} {self.lat!r})",
            "h3_r5": cells[5],
            "h3_r7": cells[7],
            "h3_r9": cells[9],
            "timezone": self.timezone,
            "opening_hours": self.opening_hours.to_json() if self.opening_hours else None,
            "services": sorted(self.services),
            "grades": list(self.all_grades()),
            "status": self.status,
            "content_hash": self.content_hash(),
        }
