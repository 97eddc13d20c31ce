"""Search that finds what drivers type, over HTTP: brands by code, full and common Chinese names,
abbreviations and English names, several at once; keywords over name and address (against a brute force);
services; regions by adcode, full and short name (nearby's region filter and /v1/prices/stats); and every
name the service does not know, or a parameter a route does not take, is a 400 naming it."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from geo.hours import OpeningHours
from geo.records import StationRecord
from pricing import ladder
from tests.support import LiveServer, insert_records

KUNMING = (102.7123, 25.0406)  # WGS-84
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai
YN, KM, QJ, SX, TY = "云南省", "昆明市", "曲靖市", "山西省", "太原市"
# name, brand, address, services, (province, city, county, adcode); placed 100 m apart eastwards, in order.
STREET: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, str, str | None, str]], ...] = (
    (
        "中国石化五华加油站",
        "sinopec",
        "五华区人民西路1号",
        ("car_wash", "convenience_store"),
        (YN, KM, "五华区", "530102"),
    ),
    (
        "中国石油盘龙站",
        "petrochina",
        "盘龙区北京路200号",
        ("convenience_store",),
        (YN, KM, "盘龙区", "530103"),
    ),
    ("中国海油滇池站", "cnooc", "西山区滇池路8号", ("toilet",), (YN, KM, None, "530100")),
    ("中化石油麒麟站", "sinochem", "麒麟区南宁北路3号", (), (YN, QJ, None, "530300")),
    ("延长壳牌小店站", "yanchang", "小店区长治路9号", ("car_wash",), (SX, TY, None, "140100")),
    ("壳牌 Shell 迎泽站", "shell", "迎泽区迎泽大街 21 号", ("car_wash", "wifi"), (SX, TY, None, "140100")),
    (
        "兴旺加油站",
        "private",
        "官渡区人民东路77号",
        ("toilet", "convenience_store"),
        (YN, KM, None, "530100"),
    ),
    ("道达尔能源站", "total", "沾益区 Total 路", (), (YN, QJ, None, "530300")),
)
NAMES = [s[0] for s in STREET]
BY_BRAND = {s[1]: s[0] for s in STREET}


@pytest.fixture
def street(engine: Engine, server: LiveServer) -> list[int]:
    server.clock.set(NOW)
    records = [
        StationRecord(
            name=name,
            brand=brand,
            lon=KUNMING[0] + (i + 1) * 100 / 101_000.0,
            lat=KUNMING[1],
            address=address,
            province=province,
            city=city,
            county=county,
            adcode=adcode,
            services=services,
            grades=("92", "95"),
            opening_hours=OpeningHours(always_open=True),
        )
        for i, (name, brand, address, services, (province, city, county, adcode)) in enumerate(STREET)
    ]
    ids = insert_records(engine, records)
    updates = [
        ladder.PriceUpdate(
            sid, "92", "pump", Decimal("8.10") + Decimal(i) / 10, NOW, "test", confirmed_at=NOW
        )
        for i, sid in enumerate(ids)
    ]
    ladder.write_prices(engine, updates, now=NOW)
    server.wait_for_catalogue()
    return ids


def nearby(server: LiveServer, **params: Any) -> httpx.Response:
    base = {"lon": KUNMING[0], "lat": KUNMING[1], "radius_m": 3000, "limit": 50}
    return server.get("/v1/stations/nearby", **{**base, **params})


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def refused(response: httpx.Response, slug: str, status: int = 400) -> list[dict[str, str]]:
    assert response.status_code == status, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["type"] == f"/problems/{slug}", body
    errors: list[dict[str, str]] = body["errors"]
    return errors


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("sinopec", "sinopec"),
        ("中国石化", "sinopec"),
        ("中石化", "sinopec"),
        ("石化", "sinopec"),
        ("Sinopec", "sinopec"),
        ("SINOPEC", "sinopec"),
        ("中国石油", "petrochina"),
        ("中石油", "petrochina"),
        ("PetroChina", "petrochina"),
        ("CNPC", "petrochina"),
        ("中国海油", "cnooc"),
        ("中海油", "cnooc"),
        ("CNOOC", "cnooc"),
        ("中化", "sinochem"),
        ("中化石油", "sinochem"),
        ("Sinochem", "sinochem"),
        ("延长", "yanchang"),
        ("延长壳牌", "yanchang"),
        ("延长石油", "yanchang"),
        ("Yanchang Shell", "yanchang"),
        ("壳牌", "shell"),
        ("Shell", "shell"),
        ("ｓｈｅｌｌ", "shell"),  # full-width, as some keyboards type it
        (" shell ", "shell"),
        ("道达尔", "total"),
        ("TotalEnergies", "total"),
        ("民营", "private"),
    ],
)
def test_each_brand_name_finds_that_brand_only(
    server: LiveServer, street: list[int], typed: str, code: str
) -> None:
    assert names(nearby(server, brand=typed)) == [BY_BRAND[code]]


def test_several_brands_at_once_comma_separated(server: LiveServer, street: list[int]) -> None:
    want = [BY_BRAND["sinopec"], BY_BRAND["shell"]]
    assert names(nearby(server, brand="中石化,shell")) == want
    assert names(nearby(server, brand="壳牌，中国石化")) == want  # full-width comma; nearest first anyway
    assert names(nearby(server, brand="中石化、壳牌、中石化")) == want  # 、 and a repeat
    three = names(nearby(server, brand="中石油,中海油,延长"))
    assert three == [BY_BRAND["petrochina"], BY_BRAND["cnooc"], BY_BRAND["yanchang"]]


def test_unknown_brands_are_named_never_read_as_private(server: LiveServer, street: list[int]) -> None:
    answer = nearby(server, brand="中石华")
    errors = refused(answer, "unknown-brand")
    assert [e["name"] for e in errors] == ["brand"] and "中石华" in errors[0]["message"]
    assert answer.json()["detail"] == "brand: unknown brand: 中石华"
    both = refused(nearby(server, brand="中石华,shell,Petro-X"), "unknown-brand")
    assert "中石华" in both[0]["message"] and "Petro-X" in both[0]["message"]
    assert "shell" not in both[0]["message"]
    repeated = server.client.get(
        "/v1/stations/nearby",
        params=[("lat", KUNMING[1]), ("lon", KUNMING[0]), ("brand", "a"), ("brand", "b")],
    )
    assert [e["name"] for e in refused(repeated, "invalid-parameter")] == ["brand"]


def _plain(text: str) -> str:
    """The brute force's own reading of "normalised": NFKC, case folded, no white space."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@pytest.mark.parametrize(
    "q", ["人民", "北京路", "shell", "ＳＨＥＬＬ", "五华 1号", "迎泽 21", "路", "站", "不存在", "total"]
)
def test_keywords_match_name_or_address_like_a_brute_force(
    server: LiveServer, street: list[int], q: str
) -> None:
    words = [_plain(w) for w in q.split()]
    want = [
        name
        for name, _, address, _, _ in STREET
        if all(w in _plain(name) or w in _plain(address) for w in words)
    ]
    assert names(nearby(server, q=q)) == want
    assert names(nearby(server, q=q, brand="中石化,shell")) == [n for n in want if n in (NAMES[0], NAMES[5])]


def test_keywords_page_like_any_filter(server: LiveServer, street: list[int]) -> None:
    first = nearby(server, q="路", limit=2)
    assert names(first) == [NAMES[0], NAMES[1]]
    second = nearby(server, q="路", limit=2, cursor=first.json()["next_cursor"])
    assert names(second) == [NAMES[2], NAMES[3]]
    assert refused(nearby(server, q="路" * 65), "invalid-parameter")[0]["name"] == "q"
    assert names(nearby(server, q="路" * 64)) == []


def test_services_filter_needs_every_service(server: LiveServer, street: list[int]) -> None:
    assert names(nearby(server, services="car_wash")) == [NAMES[0], NAMES[4], NAMES[5]]
    assert names(nearby(server, services="洗车,便利店")) == [NAMES[0]]
    assert names(nearby(server, services="car_wash,wifi")) == [NAMES[5]]
    assert names(nearby(server, services="卫生间", brand="民营")) == [NAMES[6]]
    errors = refused(nearby(server, services="car_wash,teleport"), "unknown-service")
    assert [e["name"] for e in errors] == ["services"] and "teleport" in errors[0]["message"]


@pytest.mark.parametrize(
    ("region", "want"),
    [
        ("昆明", [0, 1, 2, 6]),
        ("昆明市", [0, 1, 2, 6]),
        ("530100", [0, 1, 2, 6]),
        ("云南", [0, 1, 2, 3, 6, 7]),
        ("云南省", [0, 1, 2, 3, 6, 7]),
        ("530000", [0, 1, 2, 3, 6, 7]),
        ("曲靖", [3, 7]),
        ("530102", [0]),
        ("五华区", [0]),
        ("五华", [0]),
        ("太原", [4, 5]),
        ("140000", [4, 5]),
        ("山西", [4, 5]),
    ],
)
def test_nearby_region_by_adcode_full_and_short_name(
    server: LiveServer, street: list[int], region: str, want: list[int]
) -> None:
    assert names(nearby(server, region=region)) == [NAMES[i] for i in want]


@pytest.mark.parametrize("region", ["北京", "999999", "530999", "火星市", "云南省昆明"])
def test_a_region_no_station_lies_in_is_a_404_naming_it(
    server: LiveServer, street: list[int], region: str
) -> None:
    errors = refused(nearby(server, region=region), "region-not-found", 404)
    assert [e["name"] for e in errors] == ["region"] and region in errors[0]["message"]


@pytest.mark.parametrize("region", ["Kunming", "昆", "53010", "昆明 "])
def test_a_malformed_region_is_a_400(server: LiveServer, street: list[int], region: str) -> None:
    assert [e["name"] for e in refused(nearby(server, region=region), "invalid-parameter")] == ["region"]


def test_compare_takes_the_same_filters(server: LiveServer, street: list[int]) -> None:
    def compared(**params: Any) -> list[str]:
        found = server.get("/v1/prices/compare", lon=KUNMING[0], lat=KUNMING[1], grade="92", **params)
        assert found.status_code == 200, found.text
        return sorted(item["name"] for item in found.json()["items"])

    assert compared(brand="中石化,中石油") == sorted([NAMES[0], NAMES[1]])
    assert compared(region="太原") == sorted([NAMES[4], NAMES[5]])
    assert compared(q="人民", services="便利店") == sorted([NAMES[0], NAMES[6]])
    refused(
        server.get("/v1/prices/compare", lon=KUNMING[0], lat=KUNMING[1], grade="92", brand="x"),
        "unknown-brand",
    )


TWO_DECIMALS = re.compile(r"^[0-9]+\.[0-9]{2}$")


def test_stats_by_adcode_full_and_short_name_with_two_decimals(server: LiveServer, street: list[int]) -> None:
    def stats(**params: str) -> dict[str, Any]:
        answer = server.get("/v1/prices/stats", **params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    city = [stats(city=c) for c in ("昆明", "昆明市", "530100")]
    assert all(b == city[0] for b in city) and city[0]["city"] == "昆明市"
    [grade] = city[0]["grades"]
    # Kunming's four: 8.10, 8.20, 8.30 and 8.70 (the 7th station)
    assert (grade["stations"], grade["min"], grade["avg"], grade["max"]) == (4, "8.10", "8.33", "8.70")
    province = [stats(province=p) for p in ("云南", "云南省", "530000")]
    assert all(b == province[0] for b in province) and province[0]["province"] == "云南省"
    assert province[0]["grades"][0]["stations"] == 6
    shanxi = stats(province="山西", city="太原")
    assert (shanxi["province"], shanxi["city"]) == ("山西省", "太原市")
    # 8.50 and 8.60
    assert [(g["min"], g["avg"], g["max"]) for g in shanxi["grades"]] == [("8.50", "8.55", "8.60")]
    for g in (*city[0]["grades"], *province[0]["grades"]):
        assert all(TWO_DECIMALS.match(g[k]) for k in ("min", "avg", "max"))


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"city": "北京"}, "city"),
        ({"city": "530000"}, "city"),  # a province's code is no city
        ({"province": "火星"}, "province"),
        ({"province": "530100"}, "province"),
        ({"province": "山西", "city": "昆明"}, "city"),  # 昆明市 is not in 山西省
    ],
)
def test_stats_of_an_unknown_region_is_a_404(
    server: LiveServer, street: list[int], params: dict[str, str], name: str
) -> None:
    errors = refused(server.get("/v1/prices/stats", **params), "region-not-found", 404)
    assert [e["name"] for e in errors] == [name]
    malformed = server.get("/v1/prices/stats", **{name: "string"})
    assert [e["name"] for e in refused(malformed, "invalid-parameter")] == [name]
