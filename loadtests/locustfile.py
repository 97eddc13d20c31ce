"""Realistic mixed traffic for the service: nearby searches around Chinese cities, then station details.

    locust -f loadtests/locustfile.py --headless -u 50 -r 10 -t 30s --host http://127.0.0.1:8000

Not used for the benchmark figures (locust saturates a core near 7,800 requests/s; see PERF-NOTES):
loadtests/bench_nearby.py measures with wrk. Station ids for detail requests come from nearby answers.
"""

from __future__ import annotations

import math
import random

from locust import FastHttpUser, between, task

from geo.coords import CoordSystem, from_wgs84

# (lon, lat) of city centres the demo network clusters around, WGS-84.
CITIES = (
    (121.4737, 31.2304),
    (116.4074, 39.9042),
    (113.2644, 23.1291),
    (114.0579, 22.5431),
    (104.0665, 30.5723),
    (120.1551, 30.2741),
    (118.7969, 32.0603),
    (114.3055, 30.5928),
    (108.9398, 34.3416),
    (106.5516, 29.5630),
    (117.2008, 39.0842),
    (113.6253, 34.7466),
)
SPREAD_M = 15_000.0
# Half the clients speak WGS-84 (GPS), a quarter GCJ-02 (Amap, WeChat), a quarter BD-09 (Baidu).
COORD_SYSTEMS = (CoordSystem.WGS84, CoordSystem.WGS84, CoordSystem.GCJ02, CoordSystem.BD09)


def random_point(rng: random.Random) -> tuple[float, float, CoordSystem]:
    """A point within 15 km of a city centre, in a coordinate system drawn as apps use them."""
    lon, lat = rng.choice(CITIES)
    distance = SPREAD_M * math.sqrt(rng.random())
    bearing = rng.random() * 2.0 * math.pi
    lat += distance * math.cos(bearing) / 111_320.0
    lon += distance * math.sin(bearing) / (111_320.0 * math.cos(math.radians(lat)))
    system = rng.choice(COORD_SYSTEMS)
    out_lon, out_lat = from_wgs84(lon, lat, system)
    return out_lon, out_lat, system


class Driver(FastHttpUser):
    """Opens the map, searches nearby (sometimes with a filter), then looks at one station."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.seen: list[int] = []

    @task(6)
    def nearby(self) -> None:
        lon, lat, system = random_point(self.rng)
        params: dict[str, str | int | float] = {
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "coord": system.value,
            "radius_m": self.rng.choice((3000, 5000, 10000)),
            "limit": 20,
        }
        if self.rng.random() < 0.2:
            params["grade"] = self.rng.choice(("92", "95", "0"))
        with self.client.get(
            "/v1/stations/nearby", params=params, name="/v1/stations/nearby", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            items = response.json().get("items", [])
            self.seen = [int(item["id"]) for item in items[:5]] or self.seen
            response.success()

    @task(2)
    def station_detail(self) -> None:
        if not self.seen:
            return
        station_id = self.rng.choice(self.seen)
        self.client.get(f"/v1/stations/{station_id}", params={"coord": "gcj02"}, name="/v1/stations/{id}")

    @task(1)
    def nearby_next_page(self) -> None:
        lon, lat, system = random_point(self.rng)
        first = self.client.get(
            "/v1/stations/nearby",
            name="/v1/stations/nearby (page 1)",
            params={
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "coord": system.value,
                "radius_m": 10000,
                "limit": 10,
            },
        )
        cursor = first.json().get("next_cursor") if first.status_code == 200 else None
        if cursor:
            self.client.get(
                "/v1/stations/nearby",
                name="/v1/stations/nearby (page 2)",
                params={
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "coord": system.value,
                    "radius_m": 10000,
                    "limit": 10,
                    "cursor": cursor,
                },
            )
