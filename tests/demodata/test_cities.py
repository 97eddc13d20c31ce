"""The embedded city table: complete enough, consistent codes, centres inside China."""

from __future__ import annotations

from collections import Counter

import numpy as np

from demodata.cities import CITIES, ETHANOL_PROVINCES, NORTHERN_PROVINCES
from geo.coords import in_china

YUNNAN = {
    "昆明",
    "曲靖",
    "玉溪",
    "保山",
    "昭通",
    "丽江",
    "普洱",
    "临沧",
    "楚雄",
    "红河",
    "文山",
    "西双版纳",
    "大理",
    "德宏",
    "怒江",
    "迪庆",
}
SHANXI = {"太原", "大同", "阳泉", "长治", "晋城", "朔州", "晋中", "运城", "忻州", "临汾", "吕梁"}


def test_table_covers_every_mainland_province_with_many_cities() -> None:
    provinces = Counter(c.province for c in CITIES)
    assert len(CITIES) >= 250
    assert len(provinces) == 31
    assert all(count >= 1 for count in provinces.values())
    assert set(provinces) >= ETHANOL_PROVINCES | NORTHERN_PROVINCES


def test_every_yunnan_and_shanxi_prefecture_is_present() -> None:
    assert {c.name for c in CITIES if c.province == "云南省"} == YUNNAN
    assert {c.name for c in CITIES if c.province == "山西省"} == SHANXI


def test_adcodes_are_unique_six_digits_and_match_the_province() -> None:
    assert len({c.adcode for c in CITIES}) == len(CITIES)
    assert all(len(c.adcode) == 6 and c.adcode.isdigit() for c in CITIES)
    prefixes: dict[str, set[str]] = {}
    for c in CITIES:
        prefixes.setdefault(c.province, set()).add(c.adcode[:2])
    assert all(len(p) == 1 for p in prefixes.values()), prefixes
    assert len({next(iter(p)) for p in prefixes.values()}) == 31


def test_centres_are_lon_lat_inside_china_and_populations_positive() -> None:
    lon = np.array([c.lon for c in CITIES])
    lat = np.array([c.lat for c in CITIES])
    assert in_china(lon, lat).all()
    assert (lon > 73).all() and (lon < 135).all() and (lat > 18).all() and (lat < 54).all()
    assert all(c.population > 0 for c in CITIES)
    kunming = next(c for c in CITIES if c.name == "昆明")
    assert abs(kunming.lon - 102.83) < 0.1 and abs(kunming.lat - 24.88) < 0.1
