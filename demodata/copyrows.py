"""StationRecords as COPY text-format rows for the four catalogue tables, with ids assigned by the caller."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from geo.records import StationRecord

STATION_COLUMNS = (
    "name",
    "brand",
    "address",
    "province",
    "city",
    "county",
    "adcode",
    "geom",
    "h3_r5",
    "h3_r7",
    "h3_r9",
    "timezone",
    "opening_hours",
    "services",
    "grades",
    "status",
    "content_hash",
)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "stations": ("id", *STATION_COLUMNS),
    "station_identifiers": ("source", "external_id", "station_id"),
    "fueling_positions": ("id", "station_id", "number"),
    "nozzles": ("id", "position_id", "number", "grade"),
}
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")


def _escape(text: str) -> str:
    return text.translate(_ESCAPES) if _SPECIAL.search(text) else text


def field_text(value: Any) -> str:
    """One field in COPY text format (None -> \\N, dict -> JSON, list -> text[] literal)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, dict):
        return _escape(orjson.dumps(value).decode())
    if isinstance(value, list):
        quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        return _escape("{" + ",".join(quoted) + "}")
    return str(value)


@dataclass
class NextIds:
    """The next id to give in each table with an id sequence."""

    station: int
    position: int
    nozzle: int


@dataclass
class Batch:
    """COPY payloads (UTF-8 bytes per table) for a run of records, and what they hold."""

    payloads: dict[str, bytes]
    stations: int = 0
    identifiers: int = 0
    positions: int = 0
    nozzles: int = 0
    brands: Counter[str] = field(default_factory=Counter)


def build_batch(records: list[StationRecord], ids: NextIds) -> Batch:
    """Rows for `records`, numbering from `ids` (advanced past the ids used)."""
    stations: list[str] = []
    identifiers: list[str] = []
    positions: list[str] = []
    nozzles: list[str] = []
    grade_text: dict[str, str] = {}
    brands: Counter[str] = Counter()
    station_id, position_id, nozzle_id = ids.station, ids.position, ids.nozzle
    for record in records:
        row = record.station_row()
        stations.append(f"{station_id}\t" + "\t".join(field_text(row[c]) for c in STATION_COLUMNS) + "\n")
        for source, external_id in record.identifiers:
            identifiers.append(f"{field_text(source)}\t{field_text(external_id)}\t{station_id}\n")
        for number, grades in enumerate(record.positions, start=1):
            positions.append(f"{position_id}\t{station_id}\t{number}\n")
            for nozzle_number, grade in enumerate(grades, start=1):
                text = grade_text.get(grade) or grade_text.setdefault(grade, field_text(grade))
                nozzles.append(f"{nozzle_id}\t{position_id}\t{nozzle_number}\t{text}\n")
                nozzle_id += 1
            position_id += 1
        station_id += 1
        brands[record.brand] += 1
    ids.station, ids.position, ids.nozzle = station_id, position_id, nozzle_id
    payloads = {
        "stations": "".join(stations).encode(),
        "station_identifiers": "".join(identifiers).encode(),
        "fueling_positions": "".join(positions).encode(),
        "nozzles": "".join(nozzles).encode(),
    }
    return Batch(payloads, len(stations), len(identifiers), len(positions), len(nozzles), brands)
