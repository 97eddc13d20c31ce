"""A synthetic nearby answer in the service's shape (api/schemas.py NearbyPage), for the floor app."""

from __future__ import annotations

import math
import random
from typing import Any

import orjson

_BRANDS = (("sinopec", "中国石化"), ("petrochina", "中国石油"), ("shell", "壳牌"), ("private", "民营"))
_ROADS = ("人民路", "中山路", "解放路", "建设路", "延安路", "长江路", "沪宁高速", "滨江大道")
_GRADES = (["92", "95", "0"], ["92", "95", "98", "0"], ["92", "95"], ["92", "95", "0", "CNG"])


def nearby_answer(
    count: int = 20, *, lon: float = 121.4737, lat: float = 31.2304, seed: int = 7
) -> dict[str, Any]:
    """A plausible answer with `count` items sorted by distance (fixed seed, so the same bytes each time)."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        distance = 150.0 + i * 230.0 + rng.random() * 200.0
        bearing = rng.random() * 2.0 * math.pi
        code, display = _BRANDS[i % len(_BRANDS)]
        road = _ROADS[rng.randrange(len(_ROADS))]
        items.append(
            {
                "id": 100000 + rng.randrange(900000),
                "name": f"{display}{road}加油站",
                "brand": code,
                "brand_name": display,
                "address": f"上海市黄浦区{road}{rng.randrange(1, 999)}号",
                "grades": _GRADES[i % len(_GRADES)],
                "status": "open",
                "location": {
                    "lon": round(
                        lon + distance * math.sin(bearing) / (111320.0 * math.cos(math.radians(lat))), 6
                    ),
                    "lat": round(lat + distance * math.cos(bearing) / 111320.0, 6),
                },
                "distance_m": round(distance, 1),
                "open_now": True,
            }
        )
    return {
        "coord": "wgs84",
        "origin": {"lon": lon, "lat": lat},
        "radius_m": 5000.0,
        "as_of": "2026-11-21T08:00:00+00:00",
        "catalogue_version": 1,
        "count": len(items),
        "next_cursor": None,
        "items": items,
    }


def nearby_answer_bytes(count: int = 16) -> bytes:
    """About 4.5 KB at the default count, the mean size of the service's answers at 5 km / limit 20."""
    return orjson.dumps(nearby_answer(count))
