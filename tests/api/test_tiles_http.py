"""Vector tiles over real HTTP: each decodes to exactly the stations whose position in the tile's system
lies in the tile (brute force from PostGIS), clusters below the points zoom add up to them; strong ETags
with 304, a new tile after a catalogue change and the same one after a price change; TileJSON."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import mapbox_vector_tile  # type: ignore[import-untyped]
import numpy as np
import pytest
from sqlalchemy import Engine, text

from geo import coords
from geo.mercator import to_mercator
from geo.tiles import POINTS_FROM_ZOOM
from pricing.ladder import PriceUpdate, write_prices
from tests.api.map_support import KUNMING, in_tile, network
from tests.geo.synthetic import CENTRES
from tests.support import LiveServer

MVT = "application/vnd.mapbox-vector-tile"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def stations(engine: Engine, server: LiveServer) -> list[int]:
    server.clock.set(NOW)
    return network(engine, server)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    mx, my = to_mercator(np.array([lon]), np.array([lat]))
    return int(mx[0] * (1 << z)), int(my[0] * (1 << z))


def fetch(server: LiveServer, z: int, x: int, y: int, system: str, **headers: str) -> httpx.Response:
    return server.client.get(f"/v1/tiles/{z}/{x}/{y}.mvt", params={"coord": system}, headers=headers)


def decoded(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    layers: dict[str, Any] = mapbox_vector_tile.decode(
        response.content, default_options={"y_coord_down": True}
    )
    return layers


def test_tiles_hold_exactly_the_stations_of_the_tile(server: LiveServer, stations: list[int]) -> None:
    rng = random.Random(1414)
    seen_points = seen_clusters = 0
    for _ in range(60):
        system = rng.choice(list(coords.CoordSystem))
        lon, lat = coords.from_wgs84(*rng.choice(CENTRES), system)
        z = rng.choice([3, 6, 9, 11, 12, 13, 14, 16])
        x, y = tile_of(lon + rng.uniform(-0.2, 0.2), lat + rng.uniform(-0.2, 0.2), z)
        want = in_tile(server.engine, system, z, x, y)
        layers = decoded(fetch(server, z, x, y, system.value))
        if not want:
            assert layers == {}
            continue
        if z >= POINTS_FROM_ZOOM:
            features = layers["stations"]["features"]
            assert sorted(f["properties"]["id"] for f in features) == want and "clusters" not in layers
            for f in features:
                px, py = f["geometry"]["coordinates"]
                assert 0 <= px < 4096 and 0 <= py < 4096
                assert f["properties"]["brand"] and isinstance(f["properties"]["grades"], str)
            seen_points += 1
        else:
            features = layers["clusters"]["features"]
            assert sum(f["properties"]["count"] for f in features) == len(want) and "stations" not in layers
            seen_clusters += 1
    assert seen_points and seen_clusters


def test_a_point_sits_where_the_map_draws_the_station(
    server: LiveServer, stations: list[int], engine: Engine
) -> None:
    with engine.connect() as conn:
        sid, lon, lat = conn.execute(
            text("SELECT id, ST_X(geom), ST_Y(geom) FROM stations WHERE status = 'open' ORDER BY id LIMIT 1")
        ).one()
    for system in coords.CoordSystem:
        x, y = coords.from_wgs84(lon, lat, system)
        z = 15
        tx, ty = tile_of(x, y, z)
        features = decoded(fetch(server, z, tx, ty, system.value))["stations"]["features"]
        (mine,) = [f for f in features if f["properties"]["id"] == sid]
        mx, my = to_mercator(np.array([x]), np.array([y]))
        want = (int((mx[0] * (1 << z) - tx) * 4096), int((my[0] * (1 << z) - ty) * 4096))
        assert tuple(mine["geometry"]["coordinates"]) == want


def test_etag_and_304(server: LiveServer, stations: list[int]) -> None:
    lon, lat = coords.from_wgs84(*KUNMING, coords.CoordSystem.GCJ02)
    x, y = tile_of(lon, lat, 12)
    first = fetch(server, 12, x, y, "gcj02")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert "max-age" in first.headers["cache-control"]
    again = fetch(server, 12, x, y, "gcj02", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    listed = fetch(server, 12, x, y, "gcj02", **{"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    other = fetch(server, 12, x, y, "gcj02", **{"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content
    assert fetch(server, 12, x, y, "bd09").headers["etag"] != etag  # another system, another tile


def test_a_catalogue_change_makes_a_new_tile_and_a_price_change_does_not(
    server: LiveServer, stations: list[int], engine: Engine
) -> None:
    lon, lat = coords.from_wgs84(*KUNMING, coords.CoordSystem.GCJ02)
    x, y = tile_of(lon, lat, 12)
    first = fetch(server, 12, x, y, "gcj02")
    features = decoded(first)["stations"]["features"]
    target = features[0]["properties"]["id"]
    _price(engine, target)
    server.wait_for_changes()
    after_price = fetch(server, 12, x, y, "gcj02", **{"If-None-Match": first.headers["etag"]})
    assert after_price.status_code == 304
    with engine.begin() as conn:
        conn.execute(text("UPDATE stations SET brand = 'cnooc' WHERE id = :id"), {"id": target})
    server.wait_for_changes()
    changed = fetch(server, 12, x, y, "gcj02", **{"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
    (mine,) = [f for f in decoded(changed)["stations"]["features"] if f["properties"]["id"] == target]
    assert mine["properties"]["brand"] == "cnooc"
    with engine.begin() as conn:  # a change elsewhere: re-rendered, same bytes, same ETag
        conn.execute(text("UPDATE stations SET name = name || '·' WHERE id <> :id"), {"id": target})
    server.wait_for_changes()
    assert fetch(server, 12, x, y, "gcj02", **{"If-None-Match": changed.headers["etag"]}).status_code == 304


def _price(engine: Engine, station_id: int) -> None:
    at = NOW - timedelta(hours=1)
    done = write_prices(engine, [PriceUpdate(station_id, "92", "pump", Decimal("7.77"), at, "test")], now=at)
    assert all(o.status != "rejected" for o in done), done


@pytest.mark.parametrize(
    ("path", "status", "problem"),
    [
        ("/v1/tiles/3/8/0.mvt", 404, "/problems/tile-not-found"),
        ("/v1/tiles/3/0/8.mvt", 404, "/problems/tile-not-found"),
        ("/v1/tiles/23/0/0.mvt", 400, "/problems/invalid-parameter"),
        ("/v1/tiles/a/0/0.mvt", 400, "/problems/invalid-parameter"),
        ("/v1/tiles/3/-1/0.mvt", 400, "/problems/invalid-parameter"),
        ("/v1/tiles/3/0/0.mvt?coord=mars", 400, "/problems/invalid-coordinates"),
    ],
)
def test_tiles_out_of_range_are_problems(server: LiveServer, path: str, status: int, problem: str) -> None:
    response = server.client.get(path)
    assert response.status_code == status
    assert (
        response.headers["content-type"] == "application/problem+json" and response.json()["type"] == problem
    )


def test_tilejson_describes_the_layers(server: LiveServer, stations: list[int]) -> None:
    body = server.get("/v1/tiles.json", coord="bd09").json()
    assert body["tilejson"] == "3.0.0" and body["coord"] == "bd09"
    (template,) = body["tiles"]
    assert template == f"{server.base_url}/v1/tiles/{{z}}/{{x}}/{{y}}.mvt?coord=bd09"
    layers = {layer["id"]: layer for layer in body["vector_layers"]}
    assert (
        layers["stations"]["minzoom"] == POINTS_FROM_ZOOM
        and layers["clusters"]["maxzoom"] == POINTS_FROM_ZOOM - 1
    )
    assert set(layers["stations"]["fields"]) == {"id", "brand", "grades"}
    url = template.replace("{z}", "14").replace("{x}", "0").replace("{y}", "0")
    assert httpx.get(url).status_code == 200
    assert server.get("/v1/tiles.json").json()["coord"] == "gcj02"
