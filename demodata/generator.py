"""The deterministic SYNTHETIC demo network: invented stations that look like China's, for demos and
benchmarks.

`generate(n, seed)` yields the same records for the same (n, seed) on every run and machine: all randomness
comes from one numpy Generator seeded with `seed`, drawn in fixed-size chunks, and no draw depends on dict or
set iteration order or on hash seeds. Every record carries the identifier ("synthetic-demo", "<seed>-<i>").
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import numpy as np

from demodata.cities import MUNICIPALITIES
from demodata.equipment import (
    BRAND_CODES,
    GRADE_CODES,
    HOURS_VARIANTS,
    SERVICE_CODES,
    STATUSES,
    draw_equipment,
)
from demodata.naming import AREAS, PRIVATE_PREFIXES, PRIVATE_SUFFIXES, ROADS, highway_name
from demodata.placement import Network, build_network, place
from geo.brands import brand_name
from geo.records import StationRecord

SOURCE = "synthetic-demo"
DEFAULT_STATIONS = 110_000
DEFAULT_SEED = 20261121
BENCHMARK_STATIONS = 1_000_000
CHUNK = 50_000


@lru_cache(maxsize=1)
def network() -> Network:
    return build_network()


@lru_cache(maxsize=1 << 15)
def _services(mask: int) -> tuple[str, ...]:
    return tuple(code for bit, code in enumerate(SERVICE_CODES) if mask >> bit & 1)


def generate(n: int = DEFAULT_STATIONS, seed: int = DEFAULT_SEED) -> Iterator[StationRecord]:
    """`n` synthetic stations across mainland China, deterministic for (n, seed)."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = np.random.Generator(np.random.PCG64(seed))
    net = network()
    cities = net.cities
    counters: dict[tuple[int, int, int], int] = {}
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        where = place(rng, net, size)
        city_idx = where.city.tolist()
        provinces = [cities[c].province for c in city_idx]
        on_road = where.highway >= 0
        kit = draw_equipment(rng, provinces, on_road)
        words = rng.integers(0, 1 << 30, size=(size, 4)).tolist()
        lons, lats = where.lon.tolist(), where.lat.tolist()
        pos_off = kit.nozzle_offsets.tolist()
        counts = kit.nozzle_counts.tolist()
        noz_off = np.concatenate(([0], np.cumsum(kit.nozzle_counts))).tolist()
        grades = [GRADE_CODES[g] for g in kit.grades.tolist()]
        brands, statuses = kit.brand.tolist(), kit.status.tolist()
        hours, services, roads = kit.hours.tolist(), kit.services.tolist(), where.highway.tolist()
        for k in range(size):
            city = cities[city_idx[k]]
            brand = BRAND_CODES[brands[k]]
            w = words[k]
            locality = "" if city.province in MUNICIPALITIES else city.full_name
            if roads[k] >= 0:
                a, b = net.pairs[roads[k]]
                road = highway_name(cities[int(a)].name, cities[int(b)].name)
                area = f"{road}{city.name}服务区"
                address = f"{city.province}{locality}{road}K{w[1] % 900 + 5}"
            else:
                area = f"{city.name}{AREAS[w[0] % len(AREAS)]}"
                address = f"{city.province}{locality}{ROADS[w[1] % len(ROADS)]}{w[2] % 998 + 1}号"
            if brand == "private":
                prefix = PRIVATE_PREFIXES[w[3] % len(PRIVATE_PREFIXES)]
                suffix = PRIVATE_SUFFIXES[(w[3] >> 8) % len(PRIVATE_SUFFIXES)]
                name = f"{prefix}{suffix}" if w[3] >> 16 & 1 else f"{city.name}{prefix}{suffix}"
            else:
                key = (city_idx[k], brands[k], roads[k] if roads[k] >= 0 else -2 - w[0] % len(AREAS))
                number = counters[key] = counters.get(key, 0) + 1
                name = f"{brand_name(brand)}{area}第{number}加油站"
            positions = []
            for p in range(pos_off[k], pos_off[k + 1]):
                positions.append(tuple(grades[noz_off[p] : noz_off[p] + counts[p]]))
            sold = sorted({g for nozzles in positions for g in nozzles})
            yield StationRecord(
                name=name,
                brand=brand,
                lon=lons[k],
                lat=lats[k],
                address=address,
                province=city.province,
                city=city.full_name,
                adcode=city.adcode,
                opening_hours=HOURS_VARIANTS[hours[k]],
                services=_services(services[k]),
                grades=tuple(sold),
                status=STATUSES[statuses[k]],
                positions=tuple(positions),
                identifiers=((SOURCE, f"{seed}-{start + k}"),),
            )
