"""The project's own format (docs/ingest-format.md): one row's fields -> StationRecord, or BadRow.

Shared by the CSV and GeoJSON adapters. GeoJSON may give opening_hours as an object and the lists
(services, grades, positions) as JSON arrays; CSV gives everything as text.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from geo.brands import brand_code, brand_from_name
from geo.coords import CoordSystem
from geo.errors import GeoError
from geo.grades import normalize_grade
from geo.hours import OpeningHours, daily
from geo.records import StationRecord
from geo.services import SERVICES
from ingest.checks import china, locate
from ingest.items import BadRow

STATUSES = ("open", "temporarily_closed", "closed")
COLUMNS = (
    "source",
    "external_id",
    "name",
    "brand",
    "address",
    "province",
    "city",
    "county",
    "adcode",
    "lon",
    "lat",
    "coord",
    "timezone",
    "opening_hours",
    "services",
    "grades",
    "status",
    "positions",
)
_DAILY = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")
_ADCODE = re.compile(r"^[0-9]{6}$")


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        raise BadRow(f"expected text, got {value!r}")
    if isinstance(value, int | float):
        return repr(value)
    raise BadRow(f"expected text, got {value!r}")


def _items(value: Any, sep: str) -> list[Any]:
    if isinstance(value, list):
        return value
    return [part.strip() for part in text(value).split(sep) if part.strip()]


def parse_hours(value: Any) -> OpeningHours | None:
    try:
        if isinstance(value, dict):
            return OpeningHours.from_json(value)
        raw = text(value)
        if not raw:
            return None
        if raw.lower() == "24h":
            return OpeningHours(always_open=True)
        match = _DAILY.match(raw)
        if match:
            return daily(match.group(1).zfill(5), match.group(2).zfill(5))
        if raw.startswith("{"):
            return OpeningHours.from_json(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise BadRow(f"bad opening_hours: not valid JSON ({exc})") from None
    except GeoError as exc:
        raise BadRow(f"bad opening_hours: {exc}") from None
    raise BadRow(f"bad opening_hours {raw!r}: use JSON, '24h' or 'HH:MM-HH:MM'")


def parse_grade(value: Any) -> str:
    try:
        return normalize_grade(text(value))
    except GeoError as exc:
        raise BadRow(str(exc)) from None


def parse_services(value: Any) -> tuple[str, ...]:
    codes = tuple(text(v) for v in _items(value, ";"))
    unknown = [c for c in codes if c not in SERVICES]
    if unknown:
        raise BadRow(f"unknown service(s) {unknown}; known: {', '.join(SERVICES)}")
    return codes


def parse_positions(value: Any) -> tuple[tuple[str, ...], ...]:
    positions = []
    for position in _items(value, ";"):
        nozzles = position if isinstance(position, list) else text(position).split(",")
        grades = tuple(parse_grade(g) for g in nozzles if text(g))
        if not grades:
            raise BadRow("a fueling position has no nozzles")
        positions.append(grades)
    return tuple(positions)


def _timezone(value: Any) -> str:
    name = text(value) or "Asia/Shanghai"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRow(f"unknown timezone {name!r}") from None
    return name


def _coord(value: Any) -> CoordSystem:
    try:
        return CoordSystem.parse(text(value) or "wgs84")
    except GeoError as exc:
        raise BadRow(str(exc)) from None


def record_from_fields(fields: dict[str, Any], lon: Any, lat: Any, default_coord: str = "") -> StationRecord:
    """A checked record; raises BadRow with the first problem found."""
    source, external_id, name = (
        text(fields.get("source")),
        text(fields.get("external_id")),
        text(fields.get("name")),
    )
    if not source:
        raise BadRow("missing source")
    if not external_id:
        raise BadRow("missing external_id")
    if not name:
        raise BadRow("missing name")
    system = _coord(fields.get("coord") or default_coord)
    wlon, wlat = locate(text(lon), text(lat), china, "mainland China", system)
    adcode = text(fields.get("adcode")) or None
    if adcode is not None and not _ADCODE.match(adcode):
        raise BadRow(f"bad adcode {adcode!r}: six digits expected")
    status = text(fields.get("status")) or "open"
    if status not in STATUSES:
        raise BadRow(f"bad status {status!r}; use one of {', '.join(STATUSES)}")
    brand = text(fields.get("brand"))
    return StationRecord(
        name=name,
        brand=brand_code(brand) if brand else brand_from_name(name),
        lon=wlon,
        lat=wlat,
        address=text(fields.get("address")),
        province=text(fields.get("province")) or None,
        city=text(fields.get("city")) or None,
        county=text(fields.get("county")) or None,
        adcode=adcode,
        timezone=_timezone(fields.get("timezone")),
        opening_hours=parse_hours(fields.get("opening_hours")),
        services=parse_services(fields.get("services")),
        grades=tuple(parse_grade(g) for g in _items(fields.get("grades"), ";")),
        status=status,
        positions=parse_positions(fields.get("positions")),
        identifiers=((source, external_id),),
    )
