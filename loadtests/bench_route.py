"""The corridor case of the benchmark (loadtests.bench_nearby, server `corridor`): POST /v1/route/stations
along Kunming → Dali.

The route follows the G56/G5611 roughly: a handful of waypoints on the expressway (Kunming, Anning,
Lufeng, Yipinglang, Chuxiong, Nanhua, Xiangyun, Dali/Xiaguan), joined by curves swinging up to 6.8 km
sideways (the road winds through the hills) with 200 m steps along each chord: 331 km, 1,365 vertices
(one every ~240 m of road), a 5.5 KB polyline. Each request moves the whole route sideways by up
to 1 km (a new route each time for the worker's caches), sends it as a polyline (GCJ-02 half the time,
the mini-program's map; reversed, Dali → Kunming, half the time) and asks for a 2 km corridor (a
quarter 5 km), sorted along the route (a quarter by total cost), the first page of 20 with prices and
the anonymous effective price.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson

from geo import polyline
from geo.coords import wgs84_to_gcj02
from geo.distance import distance_m

# (lon, lat) WGS-84, Kunming west interchange → Dali (Xiaguan), along the expressway
WAYPOINTS = (
    (102.6280, 25.0560),
    (102.4400, 24.9350),
    (102.0800, 25.1500),
    (101.8700, 25.2200),
    (101.5400, 25.0400),
    (101.2700, 25.1900),
    (100.8900, 25.3300),
    (100.5600, 25.4800),
    (100.2300, 25.5900),
)
STEP_M = 200.0
SWING_M = 6_800.0
SHIFT_M = 1_000.0
METRES_PER_DEGREE = 111_320.0


def kunming_dali() -> tuple[np.ndarray, np.ndarray]:
    """(lons, lats) of the route, a vertex every ~200 m."""
    lons: list[float] = []
    lats: list[float] = []
    for (x0, y0), (x1, y1) in zip(WAYPOINTS, WAYPOINTS[1:], strict=False):
        length = distance_m(x0, y0, x1, y1)
        n = max(2, int(length / STEP_M))
        t = np.arange(n) / n
        # sideways swings (two per leg) that vanish at the waypoints
        swing = SWING_M * np.sin(2 * math.pi * t) * np.sin(math.pi * t)
        dx, dy = (x1 - x0), (y1 - y0)
        norm = math.hypot(dx, dy)
        nx, ny = -dy / norm, dx / norm  # left of the leg, in degrees
        cos_lat = math.cos(math.radians(y0))
        lons += (x0 + dx * t + nx * swing / (METRES_PER_DEGREE * cos_lat)).tolist()
        lats += (y0 + dy * t + ny * swing / METRES_PER_DEGREE).tolist()
    lons.append(WAYPOINTS[-1][0])
    lats.append(WAYPOINTS[-1][1])
    return np.asarray(lons), np.asarray(lats)


def route_length_m(lons: np.ndarray, lats: np.ndarray) -> float:
    return sum(
        distance_m(a, b, c, d)
        for a, b, c, d in zip(
            lons[:-1].tolist(), lats[:-1].tolist(), lons[1:].tolist(), lats[1:].tolist(), strict=True
        )
    )


def request_lines(count: int, seed: int) -> list[str]:
    """wrk lines `POST <path>\\t<json body>` (loadtests/wrk_nearby.lua)."""
    rng = np.random.default_rng(seed + 2)
    lons, lats = kunming_dali()
    lines = []
    for _ in range(count):
        shift = SHIFT_M * math.sqrt(rng.random())
        bearing = rng.random() * 2 * math.pi
        x = lons + shift * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(25.3)))
        y = lats + shift * math.cos(bearing) / METRES_PER_DEGREE
        coord = "gcj02" if rng.random() < 0.5 else "wgs84"
        if coord == "gcj02":
            x, y = wgs84_to_gcj02(x, y)
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]  # Dali → Kunming
        body = {
            "route": {"polyline": polyline.encode(x.tolist(), y.tolist())},
            "coord": coord,
            "corridor_m": 5_000 if rng.random() < 0.25 else 2_000,
            "grade": "92",
            "sort": "total_cost" if rng.random() < 0.25 else "along",
            "prices": True,
            "limit": 20,
        }
        lines.append("POST /v1/route/stations\t" + orjson.dumps(body).decode())
    return lines


def write_lines(lines: list[str], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="ascii")
    return target
