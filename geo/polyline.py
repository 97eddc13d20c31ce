"""Encoded polylines (Google's polyline algorithm): (lat, lon) pairs as zig-zag varints of 5-bit chunks
in the characters `?` (63) to `~` (126), each coordinate the difference from the previous one, scaled by
10^precision (5: about 1 m; 6: about 0.1 m, as OSRM and Valhalla can emit).

Decoding is vectorised (numpy), so a long route costs microseconds, not a Python loop per character."""

from __future__ import annotations

import numpy as np

from geo.errors import InvalidRoute

PRECISIONS = (5, 6)
_MAX_CHUNKS = 7  # 35 bits: more than any coordinate of precision 6 needs (180e6 zig-zagged < 2^29)
# A whole polyline: pairs of values, each value continuation chunks (95-126) then a final chunk (63-94).
PATTERN = r"^(?:[_-~]{0,6}[?-^][_-~]{0,6}[?-^])+$"


def decode(text: str, precision: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats) in degrees; InvalidRoute when the text is not a complete polyline."""
    if precision not in PRECISIONS:
        raise InvalidRoute(f"polyline precision must be one of {PRECISIONS}")
    try:
        raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raise InvalidRoute("a polyline holds only the characters '?' to '~'") from None
    if not len(raw):
        raise InvalidRoute("the polyline is empty")
    if raw.min() < 63 or raw.max() > 126:
        raise InvalidRoute("a polyline holds only the characters '?' to '~'")
    chunks = raw.astype(np.int64) - 63
    last = chunks < 0x20  # the final chunk of a value
    if not last[-1]:
        raise InvalidRoute("the polyline ends inside a value (truncated?)")
    starts = np.flatnonzero(np.concatenate(([True], last[:-1])))
    value_of = np.cumsum(np.concatenate(([0], last[:-1].astype(np.int64))))
    place = np.arange(len(chunks)) - starts[value_of]
    if place.max() >= _MAX_CHUNKS:
        raise InvalidRoute("a polyline value is too long to be a coordinate")
    joined = np.add.reduceat((chunks & 0x1F) << (5 * place), starts)
    values = np.where(joined & 1, ~(joined >> 1), joined >> 1)
    if len(values) % 2:
        raise InvalidRoute("the polyline has a latitude without its longitude")
    scale = 10.0**precision
    lats = np.cumsum(values[0::2]) / scale
    lons = np.cumsum(values[1::2]) / scale
    return lons, lats


def encode(lons: list[float], lats: list[float], precision: int = 5) -> str:
    """The polyline of these points (rounded to the precision), for tests, examples and benchmarks."""
    scale = 10**precision
    out: list[str] = []
    previous = (0, 0)
    for lon, lat in zip(lons, lats, strict=True):
        point = (round(lat * scale), round(lon * scale))
        for value, before in zip(point, previous, strict=True):
            delta = value - before
            rest = ~(delta << 1) if delta < 0 else delta << 1
            while rest >= 0x20:
                out.append(chr((0x20 | (rest & 0x1F)) + 63))
                rest >>= 5
            out.append(chr(rest + 63))
        previous = point
    return "".join(out)
