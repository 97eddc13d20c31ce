"""HTTP hygiene on read routes (issue 15, part 7) over real HTTP: gzip, br or zstd only when asked and only
above a size, weak ETags that survive the instant asked but not a price change (304 without a body), and a
Cache-Control fitting each route (no-store for anything answered to a credential)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import brotli  # type: ignore[import-untyped]
import httpx
import orjson
import zstandard
from sqlalchemy import Engine

from pricing.ladder import PriceUpdate, write_prices
from tests.api.test_nearby_features import KUNMING, station
from tests.support import LiveServer, insert_records

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
NEARBY = {"lat": KUNMING[1], "lon": KUNMING[0], "radius_m": 5000, "limit": 50}


def _stations(engine: Engine, server: LiveServer, count: int = 12) -> list[int]:
    server.clock.set(NOW)
    ids = insert_records(
        engine, [station(f"中国石化 {i}", 100 * (i + 1), positions=(("92", "95"),)) for i in range(count)]
    )
    at = NOW - timedelta(hours=1)
    write_prices(engine, [PriceUpdate(s, "92", "pump", Decimal("7.89"), at, "test") for s in ids], now=at)
    server.wait_for_catalogue()
    return ids


def test_gzip_only_when_asked_and_worth_it(server: LiveServer, engine: Engine) -> None:
    _stations(engine, server)
    with httpx.Client(base_url=server.base_url, timeout=10) as raw:
        plain = raw.get("/v1/stations/nearby", params=NEARBY, headers={"Accept-Encoding": "identity"})
        asked = raw.get("/v1/stations/nearby", params=NEARBY, headers={"Accept-Encoding": "gzip"})
        small = raw.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == asked.status_code == 200
    assert "content-encoding" not in plain.headers and len(plain.content) > 1024
    assert asked.headers["content-encoding"] == "gzip" and "accept-encoding" in asked.headers["vary"].lower()
    assert int(asked.headers["content-length"]) < len(plain.content) / 3
    assert asked.json()["items"] == plain.json()["items"]  # httpx decoded it; the same answer
    assert "content-encoding" not in small.headers  # a few bytes: not compressed


def test_gzip_applies_to_raw_bytes(server: LiveServer, engine: Engine) -> None:
    _stations(engine, server)
    request = httpx.Request(
        "GET", f"{server.base_url}/v1/stations/nearby", params=NEARBY, headers={"Accept-Encoding": "gzip"}
    )
    with httpx.Client(timeout=10) as raw:
        response = raw.send(request, stream=True)
        body = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"{")


def test_br_and_zstd_when_asked_gzip_when_only_gzip_is(server: LiveServer, engine: Engine) -> None:
    _stations(engine, server)
    decoders = {
        "br": brotli.decompress,
        "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
        "gzip": gzip.decompress,
    }
    with httpx.Client(timeout=10) as raw:
        plain = raw.get(f"{server.base_url}/v1/stations/nearby", params=NEARBY).json()
        for accept, chosen in (("gzip, br", "br"), ("br;q=0.5, zstd", "zstd"), ("gzip, br;q=0", "gzip")):
            request = httpx.Request(
                "GET",
                f"{server.base_url}/v1/stations/nearby",
                params=NEARBY,
                headers={"Accept-Encoding": accept},
            )
            response = raw.send(request, stream=True)
            body = b"".join(response.iter_raw())
            assert response.headers["content-encoding"] == chosen, accept
            assert "accept-encoding" in response.headers["vary"].lower()
            assert orjson.loads(decoders[chosen](body))["items"] == plain["items"]


def test_ladder_etag_ignores_the_instant_but_not_a_price(server: LiveServer, engine: Engine) -> None:
    [first, *_] = _stations(engine, server, 1)
    path = f"/v1/stations/{first}/prices"
    one = server.client.get(path)
    assert one.status_code == 200 and one.headers["etag"].startswith('W/"')
    assert one.headers["cache-control"] == "public, no-cache"
    server.clock.advance(timedelta(minutes=1))
    again = server.client.get(path, headers={"If-None-Match": one.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == one.headers["etag"]
    other_grade = server.client.get(
        path, params={"grade": "92"}, headers={"If-None-Match": one.headers["etag"]}
    )
    assert other_grade.status_code == 200  # another answer, another tag
    later = server.clock.now()
    write_prices(engine, [PriceUpdate(first, "92", "pump", Decimal("7.99"), later, "test")], now=later)
    server.clock.advance(timedelta(seconds=1))
    changed = server.client.get(path, headers={"If-None-Match": one.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != one.headers["etag"]
    assert "7.99" in changed.text


def test_detail_and_stats_revalidate(server: LiveServer, engine: Engine) -> None:
    [first, *_] = _stations(engine, server, 2)
    detail = server.client.get(f"/v1/stations/{first}")
    assert detail.status_code == 200, detail.text
    server.clock.advance(timedelta(seconds=30))  # another local_time and as_of, the same station
    tag = detail.headers["etag"]
    assert server.client.get(f"/v1/stations/{first}", headers={"If-None-Match": tag}).status_code == 304
    assert (
        server.client.get(f"/v1/stations/{first}", headers={"If-None-Match": '"other", *'}).status_code == 304
    )
    stats = server.client.get("/v1/prices/stats")
    assert stats.status_code == 200 and stats.headers["cache-control"] == "public, max-age=60"
    assert (
        server.client.get("/v1/prices/stats", headers={"If-None-Match": stats.headers["etag"]}).status_code
        == 304
    )
    tilejson = server.client.get("/v1/tiles.json")
    assert tilejson.status_code == 200 and tilejson.headers["cache-control"] == "public, max-age=300"
    assert (
        server.client.get("/v1/tiles.json", headers={"If-None-Match": tilejson.headers["etag"]}).status_code
        == 304
    )


def test_cache_control_fits_each_route(server: LiveServer, engine: Engine) -> None:
    [first, *_] = _stations(engine, server, 1)
    anonymous = server.client.get("/v1/stations/nearby", params=NEARBY)
    assert anonymous.headers["cache-control"] == "public, max-age=5"
    driver = server.client.get("/v1/stations/nearby", params=NEARBY, headers=server.driver("d1"))
    assert driver.status_code == 200 and driver.headers["cache-control"] == "private, no-store"
    detail_as_driver = server.client.get(f"/v1/stations/{first}", headers=server.driver("d1"))
    assert detail_as_driver.headers["cache-control"] == "private, no-store"
    points = server.client.get("/v1/me/points", headers=server.driver("d1"))
    assert points.headers["cache-control"] == "private, no-store"
    missing = server.client.get("/v1/stations/999999")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"
    assert server.client.get("/readyz").headers["cache-control"] == "no-store"
    wait = server.client.get(f"/v1/stations/{first}/wait", params={"grade": "92"})
    assert wait.status_code == 200, wait.text
    assert wait.headers["cache-control"] == "public, max-age=5"
