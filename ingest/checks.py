"""Coordinate checks shared by the adapters: missing, unparsable, 0,0, swapped, out of range, outside region.

A region is a predicate on (lon, lat) in the source's own coordinate system (GCJ-02/BD-09 offsets are a
few hundred metres, far below any region boundary we test). Conversion to WGS-84 happens after the checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from geo.coords import CoordSystem, in_china, to_wgs84
from ingest.items import BadRow

Inside = Callable[[float, float], bool]


def _in_range(lon: float, lat: float) -> bool:
    return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0


def china(lon: float, lat: float) -> bool:
    return bool(in_china(lon, lat))


def bbox(west: float, south: float, east: float, north: float) -> Inside:
    def inside(lon: float, lat: float) -> bool:
        return west <= lon <= east and south <= lat <= north

    return inside


def parse_number(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise BadRow(f"unparsable {what} {text.strip()!r}") from None
    if not math.isfinite(value):
        raise BadRow(f"unparsable {what} {text.strip()!r}")
    return value


def locate(
    lon_text: str,
    lat_text: str,
    inside: Inside,
    region: str,
    system: CoordSystem = CoordSystem.WGS84,
) -> tuple[float, float]:
    """Checked WGS-84 (lon, lat) for a pair given as text in `system`; BadRow names what is wrong."""
    if not lon_text.strip() or not lat_text.strip():
        raise BadRow("missing coordinates")
    lon = parse_number(lon_text, "longitude")
    lat = parse_number(lat_text, "latitude")
    if lon == 0.0 and lat == 0.0:
        raise BadRow("coordinates are 0,0")
    if not (_in_range(lon, lat) and inside(lon, lat)):
        if _in_range(lat, lon) and inside(lat, lon):
            raise BadRow(f"swapped lat/lon: ({lon}, {lat}) read as (lat, lon) lies in {region}")
        if not _in_range(lon, lat):
            raise BadRow(f"coordinates out of range: lon {lon}, lat {lat}")
        raise BadRow(f"outside {region}: lon {lon}, lat {lat}")
    return to_wgs84(lon, lat, system)
