"""JSON body of the along-route search: each station's static fragment, its location in the request's
system, where it lies on the route, then the columns' members (listing.route_list)."""

from __future__ import annotations

from datetime import datetime

from api.render import list_body
from geo.coords import CoordSystem
from geo.route import Route
from listing.route_list import RouteAsk, RouteList
from timekeeping.rfc3339 import instant_text

_OPEN = {1: b"true", 0: b"false", -1: b"null"}


def route_body(found: RouteList, coord: CoordSystem, route: Route, ask: RouteAsk, now: datetime) -> bytes:
    snap, positions = found.snap, found.positions
    lons, lats = snap.lonlat[coord]
    items = [
        b'{%s,"location":{"lon":%.6f,"lat":%.6f},"along_m":%.1f,"off_route_m":%.1f,"open_now":%s%s}'
        % (snap.fragments[p], x, y, a, d, _OPEN[o], t)
        for p, x, y, a, d, o, t in zip(
            positions.tolist(),
            lons[positions].tolist(),
            lats[positions].tolist(),
            found.along_m.tolist(),
            found.off_route_m.tolist(),
            found.open_state[positions].tolist(),
            found.members,
            strict=True,
        )
    ]
    head = {
        "coord": coord.value,
        "route_length_m": round(route.total_m, 1),
        "corridor_m": ask.corridor.corridor_m,
        "grade": ask.grade,
        "sort": ask.sort,
        "consumption_l_per_100km": f"{ask.consumption_l_per_100km:.2f}",
        "as_of": instant_text(now),
        "catalogue_version": snap.version,
        "stations_in_corridor": found.in_corridor,
        "count": len(items),
        "next_cursor": found.next_cursor,
    }
    return list_body(head, items)
