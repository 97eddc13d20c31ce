"""Bytes of the viewport answer: station items from each station's pre-serialised fragment and its
columns' members (as api/render.py does for nearby, without a distance), or the clusters."""

from __future__ import annotations

from datetime import datetime

import orjson

from api.render import list_body
from geo.brands import brand_name
from geo.coords import CoordSystem
from geo.viewport import Box
from listing.viewport import Viewport
from pricing.pricebook import CURRENCIES, price_text
from timekeeping.rfc3339 import instant_text

_OPEN = {1: b"true", 0: b"false", -1: b"null"}


def _items(found: Viewport, coord: CoordSystem) -> list[bytes]:
    snap, positions = found.snap, found.positions
    lons, lats = snap.lonlat[coord]
    xs = lons[positions].tolist()
    ys = lats[positions].tolist()
    opens = found.open_state[positions].tolist()
    tails = found.members if found.members is not None else [b""] * len(xs)
    fragments = snap.fragments
    return [
        b'{%s,"location":{"lon":%.6f,"lat":%.6f},"open_now":%s%s}' % (fragments[p], x, y, _OPEN[o], t)
        for p, x, y, o, t in zip(positions.tolist(), xs, ys, opens, tails, strict=True)
    ]


def _clusters(found: Viewport) -> bytes:
    grid, facts = found.clusters, found.facts
    if grid is None or facts is None:
        return b"[]"
    n = 1 << grid.level
    out = []
    for i, key in enumerate(grid.keys.tolist()):
        count = int(grid.counts[i])
        out.append(
            {
                "id": f"{grid.level}/{key // n}/{key % n}",
                "count": count,
                "centroid": {"lon": round(float(grid.lon[i]), 6), "lat": round(float(grid.lat[i]), 6)},
                "bbox": {
                    "west": float(grid.west[i]),
                    "south": float(grid.south[i]),
                    "east": float(grid.east[i]),
                    "north": float(grid.north[i]),
                },
                "cheapest": [
                    {"grade": g, "currency": c, "price": price_text(v, CURRENCIES.index(c))}
                    for g, c, v in facts.cheapest[i]
                ],
                "brands": [
                    {"brand": b, "brand_name": brand_name(b), "count": k, "share": round(k / count, 3)}
                    for b, k in facts.brands[i]
                ],
            }
        )
    return orjson.dumps(out)


def viewport_body(found: Viewport, box: Box, zoom: int, now: datetime) -> bytes:
    clustered = found.clusters is not None
    head = {
        "coord": box.coord.value,
        "bbox": {"west": box.west, "south": box.south, "east": box.east, "north": box.north},
        "zoom": zoom,
        "as_of": instant_text(now),
        "catalogue_version": found.snap.version,
        "kind": "clusters" if clustered else "stations",
        "count": found.total,
        "cluster_level": found.clusters.level if found.clusters is not None else None,
        "clusters": orjson.Fragment(_clusters(found)),
    }
    return list_body(head, [] if clustered else _items(found, box.coord))
