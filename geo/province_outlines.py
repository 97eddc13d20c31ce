"""The map page's basemap as the service serves it: the province outlines `python -m geo.basemap` wrote
(WGS-84, as everything we store), converted at the edge to the system the map draws in, so outlines and
tiles of one `coord` line up (GCJ-02 moves a point by up to ~700 m inside China)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from geo import coords


class BasemapMissing(LookupError):
    """The outlines file was not built (bin/web.sh runs `python -m geo.basemap`)."""


def _converted(rings: Any, system: coords.CoordSystem) -> Any:
    converted = []
    for polygon in rings:
        out = []
        for ring in polygon:
            xy = np.asarray(ring, dtype=np.float64)
            lon, lat = coords.from_wgs84(xy[:, 0], xy[:, 1], system)
            out.append(np.round(np.column_stack([lon, lat]), 5).tolist())
        converted.append(out)
    return converted


def in_system(document: dict[str, Any], system: coords.CoordSystem) -> dict[str, Any]:
    """A copy of the WGS-84 FeatureCollection with every vertex in `system` and `coord` saying so."""
    features = [
        {
            **feature,
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": _converted(feature["geometry"]["coordinates"], system),
            },
        }
        for feature in document["features"]
    ]
    return {**document, "coord": system.value, "features": features}


class ProvinceOutlines:
    """The file read once, each system's body encoded once (a few hundred KB each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._bodies: dict[coords.CoordSystem, bytes] = {}
        self._lock = threading.Lock()

    def body(self, system: coords.CoordSystem) -> bytes:
        with self._lock:
            found = self._bodies.get(system)
            if found is None:
                if not self.path.exists():
                    raise BasemapMissing(f"{self.path} is missing: run python -m geo.basemap (bin/web.sh)")
                document = orjson.loads(self.path.read_bytes())
                found = self._bodies[system] = orjson.dumps(in_system(document, system))
            return found
