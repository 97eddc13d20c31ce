"""Helpers for the price tests: stations in named Chinese cities, the official tables ingested."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from geo.records import StationRecord
from ingest.prices.pipeline import PriceSummary, ingest_prices
from tests.support import insert_records

OFFICIAL = "cn-official-fuel-prices-20260421/2026-04-21.json"
HISTORY = "cn-province-fuel-prices-2021-2022"
# (name, province, city, county, adcode, lon, lat)
CITIES = {
    "kunming": ("昆明加油站", "云南省", "昆明市", "五华区", "530102", 102.70, 25.04),
    "qujing": ("曲靖加油站", "云南省", "曲靖市", "麒麟区", "530302", 103.80, 25.50),
    "zhaotong": ("昭通加油站", "云南省", "昭通市", "昭阳区", "530602", 103.72, 27.34),
    "baoshan": ("保山加油站", "云南省", "保山市", "隆阳区", "530502", 99.16, 25.11),
    "lincang": ("临沧加油站", "云南省", "临沧市", "临翔区", "530902", 100.09, 23.88),
    "taiyuan": ("太原加油站", "山西省", "太原市", "小店区", "140105", 112.55, 37.87),
}


def city_stations(engine: Engine, *names: str) -> dict[str, int]:
    records = [
        StationRecord(
            name=n,
            brand="sinopec",
            lon=lon,
            lat=lat,
            province=p,
            city=c,
            county=k,
            adcode=a,
            identifiers=(("test", key),),
        )
        for key in names
        for n, p, c, k, a, lon, lat in [CITIES[key]]
    ]
    return dict(zip(names, insert_records(engine, records), strict=True))


def official(engine: Engine, shared_data: Path, rejects: Path) -> PriceSummary:
    return ingest_prices(engine, "cn-official", shared_data / OFFICIAL, rejects)
