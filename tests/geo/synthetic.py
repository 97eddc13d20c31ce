"""Synthetic station rows for pure index tests: dense clusters, sparse scatter, exact duplicates."""

from __future__ import annotations

from typing import Any

import numpy as np

from geo.cells import cells_of

CENTRES = ((121.47, 31.23), (102.71, 25.04), (112.55, 37.87), (87.62, 43.83), (91.11, 29.65))


def rows(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    brands = ("sinopec", "petrochina", "shell", "private")
    grades = (["92", "95"], ["92", "95", "98", "0"], ["0"], ["E92", "CNG"])
    services = ((), ("car_wash",), ("car_wash", "convenience_store"), ("toilet", "convenience_store", "wifi"))
    places = (("云南省", "昆明市", "530100"), ("云南省", "曲靖市", "530300"), ("山西省", "太原市", "140100"))
    roads = ("人民路", "北京路", "环城南路", "Shell Road")
    hours = (None, '{"always_open": true}', '{"weekly": {"mon": [["06:00", "22:00"]]}}')
    for i in range(n):
        kind = i % 10
        if kind < 7:  # city clusters, 1-20 km spread
            lon0, lat0 = CENTRES[rng.integers(len(CENTRES))]
            spread = rng.choice([0.01, 0.05, 0.2])
            lon, lat = lon0 + rng.normal(0, spread), lat0 + rng.normal(0, spread)
        elif kind < 9:  # sparse scatter over western/central China
            lon, lat = rng.uniform(80, 125), rng.uniform(22, 48)
        else:  # exact duplicate location of an earlier station: ties broken by id
            prev = out[int(rng.integers(len(out)))] if out else None
            lon, lat = (prev["lon"], prev["lat"]) if prev else (100.0, 30.0)
        c = cells_of(float(lon), float(lat))
        out.append(
            {
                "id": i + 1,
                "lon": float(lon),
                "lat": float(lat),
                "h3_r5": c[5],
                "h3_r7": c[7],
                "name": f"station {i + 1}",
                "brand": brands[i % len(brands)],
                "address": f"{roads[i % 4]}{i % 13}号",
                "services": list(services[i % 4]),
                "province": places[i % 3][0],
                "city": places[i % 3][1],
                "county": None,
                "adcode": places[i % 3][2],
                "grades": grades[i % len(grades)],
                "status": "open" if i % 17 else "temporarily_closed",
                "opening_hours": hours[i % len(hours)],
                "timezone": "Asia/Shanghai",
            }
        )
    return out
