"""The synthetic generator: deterministic, inside China, near its cities, realistic shares and equipment."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from demodata.cities import CITIES, ETHANOL_PROVINCES
from demodata.generator import SOURCE, generate
from demodata.placement import MAX_HIGHWAY_KM, TRUNCATE_SIGMAS, km_between, spread_km
from geo.brands import BRANDS
from geo.coords import in_china
from geo.grades import GRADES
from geo.records import StationRecord
from geo.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
N = 20_000
SEED = 7
CITY_BY_FULL_NAME = {c.full_name: c for c in CITIES}


@pytest.fixture(scope="module")
def records() -> list[StationRecord]:
    return list(generate(N, SEED))


def test_same_n_and_seed_give_identical_records(records: list[StationRecord]) -> None:
    assert list(generate(N, SEED)) == records
    assert [r.content_hash() for r in generate(500, SEED)] == [r.content_hash() for r in generate(500, SEED)]


def test_different_seed_gives_a_different_network(records: list[StationRecord]) -> None:
    other = list(generate(500, SEED + 1))
    assert len(other) == 500
    assert sum(a.lon == b.lon for a, b in zip(other, records, strict=False)) < 5
    assert [r.name for r in other] != [r.name for r in records[:500]]


def test_count_and_identifiers_say_synthetic(records: list[StationRecord]) -> None:
    assert len(records) == N
    assert [r.identifiers for r in records[:3]] == [((SOURCE, f"{SEED}-{i}"),) for i in range(3)]
    assert len({r.identifiers for r in records}) == N
    assert SOURCE == "synthetic-demo"
    assert list(generate(0, SEED)) == []


def test_points_are_in_china_and_near_their_city(records: list[StationRecord]) -> None:
    lon = np.array([r.lon for r in records])
    lat = np.array([r.lat for r in records])
    assert in_china(lon, lat).all()
    cities = [CITY_BY_FULL_NAME[r.city or ""] for r in records]
    clon = np.array([c.lon for c in cities])
    clat = np.array([c.lat for c in cities])
    km = km_between(lon, lat, clon, clat)
    on_highway = np.array(["高速" in r.address for r in records])
    limit = TRUNCATE_SIGMAS * spread_km(np.array([c.population for c in cities])) + 0.5
    assert (km[~on_highway] <= limit[~on_highway]).all()
    assert (km[on_highway] <= MAX_HIGHWAY_KM / 2 + 5).all()
    assert 0.12 < on_highway.mean() < 0.18
    # Clustered: most city stations are well inside their city's spread, not uniform over the disc.
    assert np.median(km[~on_highway] / limit[~on_highway]) < 0.6


def test_province_city_and_adcode_come_from_the_city(records: list[StationRecord]) -> None:
    for r in records[:2000]:
        city = CITY_BY_FULL_NAME[r.city or ""]
        assert (r.province, r.adcode) == (city.province, city.adcode)
        assert r.address.startswith(city.province)
        assert r.timezone == "Asia/Shanghai"


def test_brand_shares_match_the_market_within_tolerance(records: list[StationRecord]) -> None:
    shares = {brand: n / N for brand, n in Counter(r.brand for r in records).items()}
    expected = {
        "sinopec": 0.30,
        "petrochina": 0.22,
        "cnooc": 0.03,
        "shell": 0.02,
        "total": 0.01,
        "bp": 0.01,
        "sinochem": 0.01,
        "private": 0.39,
    }
    for brand, share in expected.items():
        assert abs(shares.get(brand, 0.0) - share) <= max(0.015, share * 0.3), (brand, shares)
    assert set(shares) <= set(BRANDS)
    assert {r.province for r in records if r.brand == "yanchang"} == {"陕西省"}
    assert 0.003 < shares["yanchang"] < 0.03


def test_names_carry_brand_and_city(records: list[StationRecord]) -> None:
    sinopec = [r for r in records if r.brand == "sinopec"]
    assert all(r.name.startswith("中国石化") and r.name.endswith("加油站") for r in sinopec)
    assert all("中国" not in r.name and "加油" in r.name for r in records if r.brand == "private")
    kunming = [r.name for r in sinopec if r.city == "昆明市"]
    assert kunming and all(n.startswith("中国石化") and "第" in n for n in kunming)


def test_small_and_named_cities_have_stations(records: list[StationRecord]) -> None:
    per_city = Counter(r.city for r in records)
    assert per_city["昆明市"] > per_city["曲靖市"] > 0
    assert per_city["太原市"] > 0
    assert per_city["上海市"] > per_city["太原市"] > per_city["吕梁市"]


def test_grades_are_the_union_of_nozzle_grades(records: list[StationRecord]) -> None:
    for r in records:
        assert 2 <= len(r.positions) <= 12
        assert all(2 <= len(nozzles) <= 4 for nozzles in r.positions)
        assert r.grades == tuple(sorted({g for nozzles in r.positions for g in nozzles}))
        assert set(r.grades) <= set(GRADES)


def test_grades_follow_region(records: list[StationRecord]) -> None:
    ethanol = [r for r in records if r.province in ETHANOL_PROVINCES]
    assert ethanol and not any({"92", "95"} & set(r.grades) for r in ethanol)
    assert any("E92" in r.grades for r in ethanol)
    south = [r for r in records if r.province in {"广东省", "海南省", "云南省"}]
    assert not any("-10" in r.grades for r in south)
    assert any("-10" in r.grades for r in records if r.province == "黑龙江省")
    with_98 = sum("98" in r.grades for r in records) / N
    assert 0.05 < with_98 < 0.6
    assert any("LNG" in r.grades for r in records) and any("CNG" in r.grades for r in records)


def test_status_hours_and_services(records: list[StationRecord]) -> None:
    status = Counter(r.status for r in records)
    assert abs(status["open"] / N - 0.97) < 0.01 and status["temporarily_closed"] > status["closed"] > 0
    always = sum(1 for r in records if r.opening_hours and r.opening_hours.always_open) / N
    assert 0.82 < always < 0.88
    limited = {
        str(r.opening_hours.to_json()) for r in records if r.opening_hours and not r.opening_hours.always_open
    }
    assert len(limited) >= 5
    assert all(set(r.services) <= set(SERVICES) for r in records)
    assert len({r.services for r in islice(records, 2000)}) > 100


def test_a_million_station_run_starts_quickly_and_stays_valid() -> None:
    head = list(islice(generate(1_000_000, SEED), 1000))
    assert len(head) == 1000
    assert in_china(np.array([r.lon for r in head]), np.array([r.lat for r in head])).all()


def _fingerprint_in_subprocess(hash_seed: str) -> str:
    code = (
        "import hashlib\n"
        "from demodata.generator import generate\n"
        "print(hashlib.sha256(''.join(r.content_hash() for r in generate(1500, 3)).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_output_does_not_depend_on_the_hash_seed() -> None:
    here = hashlib.sha256("".join(r.content_hash() for r in generate(1500, 3)).encode()).hexdigest()
    assert _fingerprint_in_subprocess("1") == here == _fingerprint_in_subprocess("2")
