"""JSON bodies for the hot path, assembled from each station's pre-serialised static fragment."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import orjson

from geo.coords import CoordSystem
from geo.nearby import NearbyResult
from geo.snapshot import Snapshot

_OPEN = {1: b"true", 0: b"false", -1: b"null"}


def nearby_body(
    snap: Snapshot,
    result: NearbyResult,
    coord: CoordSystem,
    origin: tuple[float, float],
    radius_m: float,
    open_state: np.ndarray,
    now: datetime,
    extras: list[bytes] | None = None,
) -> bytes:
    lons, lats = snap.lonlat[coord]
    positions = result.positions
    distances = result.distances_m().tolist()
    xs = lons[positions].tolist()
    ys = lats[positions].tolist()
    opens = open_state[positions].tolist()
    tails = extras or [b""] * len(xs)
    items = [
        b'{%s,"location":{"lon":%.6f,"lat":%.6f},"distance_m":%.1f,"open_now":%s%s}'
        % (snap.fragments[p], x, y, d, _OPEN[o], t)
        for p, x, y, d, o, t in zip(positions.tolist(), xs, ys, distances, opens, tails, strict=True)
    ]
    head = orjson.dumps(
        {
            "coord": coord.value,
            "origin": {"lon": origin[0], "lat": origin[1]},
            "radius_m": radius_m,
            "as_of": now.isoformat(timespec="seconds"),
            "catalogue_version": snap.version,
            "count": len(items),
            "next_cursor": result.next_cursor,
        }
    )
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"
