"""JSON bodies of station lists, assembled from each station's pre-serialised static fragment and the
members the list's columns computed (listing/columns.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from api.instants import instant_text
from geo.coords import COORD_PLACES, CoordSystem
from listing.lists import StationList

_OPEN = {1: b"true", 0: b"false", -1: b"null"}


def list_items(found: StationList, coord: CoordSystem) -> list[bytes]:
    """Each station: its static members, location in `coord`, distance, open now, then the columns."""
    snap, positions = found.snap, found.positions
    lons, lats = snap.lonlat[coord]
    xs = lons[positions].tolist()
    ys = lats[positions].tolist()
    opens = found.open_state[positions].tolist()
    distances = found.distances_m.tolist()
    tails = found.members if found.members is not None else [b""] * len(xs)
    fragments = snap.fragments
    return [
        b'{%s,"location":{"lon":%.6f,"lat":%.6f},"distance_m":%.1f,"open_now":%s%s}'
        % (fragments[p], x, y, d, _OPEN[o], t)
        for p, x, y, d, o, t in zip(positions.tolist(), xs, ys, distances, opens, tails, strict=True)
    ]


def list_body(head: dict[str, Any], items: list[bytes]) -> bytes:
    """`head`'s members, then `items`."""
    return orjson.dumps(head)[:-1] + b',"items":[' + b",".join(items) + b"]}"


def nearby_body(
    found: StationList, coord: CoordSystem, origin: tuple[float, float], radius_m: float, now: datetime
) -> bytes:
    items = list_items(found, coord)
    head = {
        "coord": coord.value,
        "origin": {"lon": round(origin[0], COORD_PLACES), "lat": round(origin[1], COORD_PLACES)},
        "radius_m": radius_m,
        "as_of": instant_text(now),
        "catalogue_version": found.snap.version,
        "count": len(items),
        "next_cursor": found.next_cursor,
    }
    return list_body(head, items)


def compare_body(
    found: StationList,
    coord: CoordSystem,
    origin: tuple[float, float],
    grade: str,
    radius_m: float,
    sort: str,
    now: datetime,
) -> bytes:
    items = list_items(found, coord)
    head = {
        "coord": coord.value,
        "origin": {"lon": round(origin[0], COORD_PLACES), "lat": round(origin[1], COORD_PLACES)},
        "grade": grade,
        "radius_m": radius_m,
        "sort": sort,
        "as_of": instant_text(now),
        "catalogue_version": found.snap.version,
        "stations_in_radius": found.in_radius,
        "count": len(items),
        "next_cursor": found.next_cursor,
    }
    return list_body(head, items)
