"""Coordinate systems at the edges: WGS-84 (storage), GCJ-02 (Amap, Tencent, WeChat map), BD-09 (Baidu).

Every function takes and returns (lon, lat) in degrees, in that order. The same formulas run on floats
(the per-request path) and on numpy arrays (bulk loads), through a tiny math namespace.
GCJ-02 applies inside mainland China only; outside it GCJ-02 equals WGS-84. Inverses iterate on the
forward transform until the residual is below 1e-8 degrees (about 1 mm), far under the 0.5 m bound.
"""

from __future__ import annotations

import math
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np

from geo.errors import InvalidCoordinates

T = TypeVar("T", float, np.ndarray)

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_INVERSE_TOLERANCE_DEG = 1e-8  # about 1 mm
_MAX_ITERATIONS = 30

# Coordinates in every answer, in every system: 6 decimals (1e-6 degree, about 0.1 m).
COORD_PLACES = 6


class CoordSystem(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @classmethod
    def parse(cls, value: str) -> CoordSystem:
        try:
            return cls(value.strip().lower().replace("-", ""))
        except ValueError:
            raise InvalidCoordinates(
                f"unknown coordinate system {value!r}; use one of wgs84, gcj02, bd09"
            ) from None


_SCALAR = SimpleNamespace(sin=math.sin, cos=math.cos, sqrt=math.sqrt, atan2=math.atan2, fabs=math.fabs)
_VECTOR = SimpleNamespace(sin=np.sin, cos=np.cos, sqrt=np.sqrt, atan2=np.arctan2, fabs=np.fabs)


def _ns(value: Any) -> SimpleNamespace:
    return _VECTOR if isinstance(value, np.ndarray) else _SCALAR


# Mainland China as inclusion rectangles minus exclusion rectangles (north, west, south, east).
_CHINA_IN = (
    (49.220400, 79.446200, 42.889900, 96.330000),
    (54.141500, 109.687200, 39.374200, 135.000200),
    (42.889900, 73.124600, 29.529700, 124.143255),
    (29.529700, 82.968400, 26.718600, 97.035200),
    (29.529700, 97.025300, 20.414096, 124.367395),
    (20.414096, 107.975793, 17.871542, 111.744104),
)
_CHINA_OUT = (
    (25.398623, 119.921265, 21.785006, 122.497559),  # Taiwan
    (22.284000, 101.865200, 20.098800, 106.665000),  # Laos / Vietnam
    (21.542200, 106.452500, 20.487800, 108.051000),  # Vietnam
    (55.817500, 109.032300, 50.325700, 119.127000),  # Mongolia / Russia
    (55.817500, 127.456800, 49.557400, 137.022700),  # Russia
    (44.892200, 131.266200, 42.569200, 137.022700),  # Russia
)


def _in_rects(lon: T, lat: T, rects: tuple[tuple[float, float, float, float], ...]) -> Any:
    hit: Any = False if not isinstance(lon, np.ndarray) else np.zeros(lon.shape, dtype=bool)
    for north, west, south, east in rects:
        inside = (lat <= north) & (lat >= south) & (lon >= west) & (lon <= east)
        hit = hit | inside
    return hit


def in_china(lon: T, lat: T) -> Any:
    """True where GCJ-02 obfuscation applies (mainland China, Hong Kong and Macau; not Taiwan)."""
    return (
        _in_rects(lon, lat, _CHINA_IN) & ~_in_rects(lon, lat, _CHINA_OUT)
        if isinstance(lon, np.ndarray)
        else bool(_in_rects(lon, lat, _CHINA_IN) and not _in_rects(lon, lat, _CHINA_OUT))
    )


def _gcj_delta(lon: T, lat: T) -> tuple[T, T]:
    m = _ns(lon)
    x = lon - 105.0
    y = lat - 35.0
    sx = m.sqrt(m.fabs(x))
    wave = (20.0 * m.sin(6.0 * x * math.pi) + 20.0 * m.sin(2.0 * x * math.pi)) * 2.0 / 3.0  # in both
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sx
    dlat = dlat + wave
    dlat = dlat + (20.0 * m.sin(y * math.pi) + 40.0 * m.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * m.sin(y / 12.0 * math.pi) + 320.0 * m.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sx
    dlon = dlon + wave
    dlon = dlon + (20.0 * m.sin(x * math.pi) + 40.0 * m.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * m.sin(x / 12.0 * math.pi) + 300.0 * m.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * m.sin(radlat) ** 2
    sqrtmagic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * m.cos(radlat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: T, lat: T) -> tuple[T, T]:
    dlon, dlat = _gcj_delta(lon, lat)
    if isinstance(lon, np.ndarray):
        mask = in_china(lon, lat)
        return np.where(mask, lon + dlon, lon), np.where(mask, lat + dlat, lat)
    if not in_china(lon, lat):
        return lon, lat
    return lon + dlon, lat + dlat


def gcj02_to_bd09(lon: T, lat: T) -> tuple[T, T]:
    m = _ns(lon)
    z = m.sqrt(lon * lon + lat * lat) + 0.00002 * m.sin(lat * _X_PI)
    theta = m.atan2(lat, lon) + 0.000003 * m.cos(lon * _X_PI)
    return z * m.cos(theta) + 0.0065, z * m.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: T, lat: T) -> tuple[T, T]:
    m = _ns(lon)
    x = lon - 0.0065
    y = lat - 0.006
    z = m.sqrt(x * x + y * y) - 0.00002 * m.sin(y * _X_PI)
    theta = m.atan2(y, x) - 0.000003 * m.cos(x * _X_PI)
    return z * m.cos(theta), z * m.sin(theta)


def _invert(forward: Any, lon: T, lat: T, start: tuple[T, T]) -> tuple[T, T]:
    """Fixed-point inversion of `forward`: move the guess by the forward residual until it vanishes."""
    glon, glat = start
    for _ in range(_MAX_ITERATIONS):
        flon, flat = forward(glon, glat)
        rlon, rlat = flon - lon, flat - lat
        glon, glat = glon - rlon, glat - rlat
        if isinstance(rlon, np.ndarray):
            worst = max(float(np.max(np.abs(rlon))), float(np.max(np.abs(rlat))))
        else:
            worst = max(abs(rlon), abs(rlat))
        if worst < _INVERSE_TOLERANCE_DEG:
            break
    return glon, glat


def _gcj_shift(lon: T, lat: T) -> tuple[T, T]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


# China's rectangles widened by far more than any GCJ-02 shift there (at most 0.0103° of longitude and
# 0.0041° of latitude): only inside it can a point be the shifted image of a point in China. Outside it
# the inversion is not even tried (near the poles it diverges: cos(lat) -> 0, sin(inf) raises).
_NEAR_CHINA = (72.0, 136.5, 17.0, 55.5)  # west, east, south, north


def _near_china(lon: T, lat: T) -> Any:
    west, east, south, north = _NEAR_CHINA
    return (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)


def gcj02_to_wgs84(lon: T, lat: T) -> tuple[T, T]:
    """The WGS-84 point that GCJ-02 shifts onto (lon, lat); the point itself where no shifted point in
    China lands there. Near the border both may exist; the shifted (in-China) reading wins."""
    if isinstance(lon, np.ndarray):
        near = _near_china(lon, lat)
        west, east, south, north = _NEAR_CHINA
        clon, clat = np.clip(lon, west, east), np.clip(lat, south, north)  # the far ones are not used
        dlon, dlat = _gcj_delta(clon, clat)
        wlon, wlat = _invert(_gcj_shift, clon, clat, (clon - dlon, clat - dlat))
        mask = near & in_china(wlon, wlat)
        return np.where(mask, wlon, lon), np.where(mask, wlat, lat)
    if not _near_china(lon, lat):
        return lon, lat
    dlon, dlat = _gcj_delta(lon, lat)
    wlon, wlat = _invert(_gcj_shift, lon, lat, (lon - dlon, lat - dlat))
    return (wlon, wlat) if in_china(wlon, wlat) else (lon, lat)


def bd09_to_gcj02(lon: T, lat: T) -> tuple[T, T]:
    return _invert(gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def wgs84_to_bd09(lon: T, lat: T) -> tuple[T, T]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: T, lat: T) -> tuple[T, T]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def validate_lon_lat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidCoordinates("coordinates must be finite numbers")
    if not -90.0 <= lat <= 90.0:
        raise InvalidCoordinates(f"latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise InvalidCoordinates(f"longitude {lon} is outside [-180, 180]")


def to_wgs84(lon: T, lat: T, system: CoordSystem) -> tuple[T, T]:
    """Bring a point given in `system` into storage coordinates (within [-180, 180] x [-90, 90]: BD-09's
    offset would otherwise carry a point at the pole or the antimeridian past it)."""
    if system is CoordSystem.WGS84:
        return lon, lat
    if system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    wlon, wlat = bd09_to_wgs84(lon, lat)
    if isinstance(wlon, np.ndarray):
        return np.where(np.abs(wlon) > 180.0, np.remainder(wlon + 180.0, 360.0) - 180.0, wlon), np.clip(
            wlat, -90.0, 90.0
        )
    if abs(wlon) > 180.0:
        wlon = (wlon + 180.0) % 360.0 - 180.0
    return wlon, min(90.0, max(-90.0, wlat))


def from_wgs84(lon: T, lat: T, system: CoordSystem) -> tuple[T, T]:
    """Express a stored WGS-84 point in `system`."""
    if system is CoordSystem.WGS84:
        return lon, lat
    if system is CoordSystem.GCJ02:
        return wgs84_to_gcj02(lon, lat)
    return wgs84_to_bd09(lon, lat)
