"""Where synthetic stations stand: clusters around cities plus points along straight inter-city 'highways'.

Vectorised with numpy. Every point is inside mainland China (geo.coords.in_china); points that fall outside
are redrawn, and after a bounded number of redraws fall back to their city's centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from demodata.cities import CITIES, SEA_SEPARATED, City
from geo.coords import in_china

KM_PER_DEG_LAT = 110.57
HIGHWAY_SHARE = 0.15
NEIGHBOURS = 3
MAX_HIGHWAY_KM = 600.0
TRUNCATE_SIGMAS = 2.5
HIGHWAY_JITTER_KM = 0.6
_REDRAWS = 30

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def km_between(lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray) -> FloatArray:
    """Equirectangular distance in km (good to a fraction of a percent at these ranges)."""
    mean_lat = np.radians((lat1 + lat2) / 2.0)
    dx = (lon2 - lon1) * KM_PER_DEG_LAT * 1.0067 * np.cos(mean_lat)
    dy = (lat2 - lat1) * KM_PER_DEG_LAT
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def spread_km(population: FloatArray) -> FloatArray:
    """Std-dev of a city's station cluster: ~3 km for small towns up to ~25 km for megacities."""
    return np.asarray(np.clip(2.0 + 4.5 * np.sqrt(population), 3.0, 25.0), dtype=np.float64)


@dataclass(frozen=True)
class Network:
    cities: tuple[City, ...]
    lon: FloatArray
    lat: FloatArray
    population: FloatArray
    sigma_km: FloatArray
    city_weight: FloatArray  # probability of a city-cluster station belonging to each city
    pairs: IntArray  # (m, 2) city indices joined by a straight 'highway', i < j
    pair_weight: FloatArray


def build_network(cities: tuple[City, ...] = CITIES) -> Network:
    lon = np.array([c.lon for c in cities], dtype=np.float64)
    lat = np.array([c.lat for c in cities], dtype=np.float64)
    pop = np.array([c.population for c in cities], dtype=np.float64)
    weight = pop**0.8
    dist = km_between(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(dist, np.inf)
    pairs: set[tuple[int, int]] = set()
    for i in range(len(cities)):
        for j in np.argsort(dist[i], kind="stable")[:NEIGHBOURS]:
            j = int(j)
            sea = frozenset({cities[i].province, cities[j].province}) in SEA_SEPARATED
            if dist[i, j] <= MAX_HIGHWAY_KM and not sea:
                pairs.add((min(i, j), max(i, j)))
    pair_arr = np.array(sorted(pairs), dtype=np.int64)
    pair_weight = np.sqrt(weight[pair_arr[:, 0]] * weight[pair_arr[:, 1]])
    return Network(
        cities=cities,
        lon=lon,
        lat=lat,
        population=pop,
        sigma_km=spread_km(pop),
        city_weight=weight / weight.sum(),
        pairs=pair_arr,
        pair_weight=pair_weight / pair_weight.sum(),
    )


@dataclass(frozen=True)
class Placement:
    lon: FloatArray
    lat: FloatArray
    city: IntArray  # index into Network.cities: the cluster's city, or the nearer end of the highway
    highway: IntArray  # index into Network.pairs, -1 for city-cluster stations


def _cluster_points(rng: np.random.Generator, net: Network, city: IntArray) -> tuple[FloatArray, FloatArray]:
    sigma = net.sigma_km[city]
    # Rayleigh radius truncated at TRUNCATE_SIGMAS * sigma (inverse CDF), uniform bearing.
    cap = 1.0 - np.exp(-(TRUNCATE_SIGMAS**2) / 2.0)
    radius = sigma * np.sqrt(-2.0 * np.log1p(-rng.random(city.size) * cap))
    bearing = rng.random(city.size) * 2.0 * np.pi
    lat0 = net.lat[city]
    lat = lat0 + radius * np.cos(bearing) / KM_PER_DEG_LAT
    lon = net.lon[city] + radius * np.sin(bearing) / (KM_PER_DEG_LAT * 1.0067 * np.cos(np.radians(lat0)))
    return lon, lat


def _highway_points(
    rng: np.random.Generator, net: Network, pair: IntArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    a, b = net.pairs[pair, 0], net.pairs[pair, 1]
    t = rng.uniform(0.03, 0.97, pair.size)
    lon = net.lon[a] + t * (net.lon[b] - net.lon[a])
    lat = net.lat[a] + t * (net.lat[b] - net.lat[a])
    jitter = rng.normal(0.0, HIGHWAY_JITTER_KM, (2, pair.size)) / KM_PER_DEG_LAT
    lon = lon + jitter[0] / np.cos(np.radians(lat))
    lat = lat + jitter[1]
    return lon, lat, np.where(t < 0.5, a, b)


def _draw(
    rng: np.random.Generator, net: Network, city: IntArray, highway: IntArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    lon, lat = _cluster_points(rng, net, city)
    on_road = highway >= 0
    if on_road.any():
        hlon, hlat, hcity = _highway_points(rng, net, highway[on_road])
        lon[on_road], lat[on_road] = hlon, hlat
        city = city.copy()
        city[on_road] = hcity
    return lon, lat, city


def place(rng: np.random.Generator, net: Network, n: int) -> Placement:
    city = rng.choice(len(net.cities), size=n, p=net.city_weight).astype(np.int64)
    on_road = rng.random(n) < HIGHWAY_SHARE
    highway = np.full(n, -1, dtype=np.int64)
    highway[on_road] = rng.choice(len(net.pairs), size=int(on_road.sum()), p=net.pair_weight)
    lon, lat, city = _draw(rng, net, city, highway)
    bad = np.flatnonzero(~in_china(lon, lat))
    for _ in range(_REDRAWS):
        if bad.size == 0:
            break
        rlon, rlat, rcity = _draw(rng, net, city[bad], highway[bad])
        lon[bad], lat[bad], city[bad] = rlon, rlat, rcity
        bad = bad[~in_china(lon[bad], lat[bad])]
    if bad.size:  # give up on the few stubborn ones: the city centre is inside China
        lon[bad], lat[bad], highway[bad] = net.lon[city[bad]], net.lat[city[bad]], -1
    return Placement(lon=np.round(lon, 6), lat=np.round(lat, 6), city=city, highway=highway)
