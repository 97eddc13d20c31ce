"""GET /v1/map/provinces over real HTTP: 34 provinces, GCJ-02 by default, every vertex the stored WGS-84
one converted (so outlines and tiles of one system line up), refused systems a 400 problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Point, shape
from sqlalchemy import Engine

from geo import coords
from geo.basemap import PROVINCES_ZH, decode_rings, outline
from tests.support import LiveServer, live_server


def outlines(server: LiveServer, **params: str) -> dict[str, Any]:
    response = server.get("/v1/map/provinces", **params)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=86400"
    body: dict[str, Any] = response.json()
    return body


def by_code(body: dict[str, Any]) -> dict[str, Any]:
    return {f["properties"]["code"]: f for f in body["features"]}


def test_provinces_are_in_gcj02_by_default_and_equal_the_wgs84_ones_converted(server: LiveServer) -> None:
    default, wgs, bd = outlines(server), outlines(server, coord="wgs84"), outlines(server, coord="bd09")
    assert (default["coord"], wgs["coord"], bd["coord"]) == ("gcj02", "wgs84", "bd09")
    assert "LGPL" in default["source"] and "gmt-dcw" in default["source"]
    assert sorted(by_code(default)) == sorted(f"CN-{c}" for c in PROVINCES_ZH)
    for system, body in ((coords.CoordSystem.GCJ02, default), (coords.CoordSystem.BD09, bd)):
        for code, feature in by_code(body).items():
            ring = np.asarray(feature["geometry"]["coordinates"][0][0])
            stored = np.asarray(by_code(wgs)[code]["geometry"]["coordinates"][0][0])
            lon, lat = coords.from_wgs84(stored[:, 0], stored[:, 1], system)
            assert np.allclose(ring[:, 0], lon, atol=1e-5) and np.allclose(ring[:, 1], lat, atol=1e-5)
            assert not np.allclose(ring, stored, atol=1e-3)  # the shift is there (China: 100s of metres)
    yunnan = by_code(default)["CN-YN"]
    assert yunnan["properties"]["name_zh"] == "云南" and yunnan["properties"]["name"] == "Yunnan"
    kunming = Point(*coords.wgs84_to_gcj02(102.71, 25.04))
    assert shape(yunnan["geometry"]).contains(kunming)
    assert not shape(by_code(default)["CN-SC"]["geometry"]).contains(kunming)
    beijing = Point(*coords.wgs84_to_gcj02(116.4, 39.9))  # an enclave: a hole in Hebei's outline
    assert shape(by_code(default)["CN-BJ"]["geometry"]).contains(beijing)
    assert not shape(by_code(default)["CN-HE"]["geometry"]).contains(beijing)


def test_an_unknown_system_or_parameter_is_a_400_problem(server: LiveServer) -> None:
    refused = server.get("/v1/map/provinces", coord="utm")
    assert refused.status_code == 400 and refused.json()["type"] == "/problems/invalid-coordinates"
    assert refused.headers["content-type"].startswith("application/problem+json")
    unknown = server.get("/v1/map/provinces", zoom="3")
    assert unknown.status_code == 400 and unknown.json()["type"] == "/problems/unknown-parameter"


def test_without_the_built_file_the_outlines_are_a_503_problem(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    with live_server(database_url, engine, map_basemap_path=str(tmp_path / "none.geojson")) as server:
        missing = server.get("/v1/map/provinces")
    assert missing.status_code == 503 and missing.json()["type"] == "/problems/basemap-not-installed"
    assert missing.headers["retry-after"] == "5"


def test_dcw_rings_decode_to_outer_rings_and_holes() -> None:
    """DCW's packing: 65535 in lon starts a ring, lat 1 there marks a hole; v means min + v / scale."""
    lon = np.array([65535, 0, 100, 100, 0, 65535, 25, 75, 75, 25], dtype=np.uint16)
    lat = np.array([0, 0, 0, 100, 100, 1, 25, 25, 75, 75], dtype=np.uint16)
    lon_attrs = {"min": [100.0], "scale": [100.0]}
    lat_attrs = {"min": [20.0], "scale": [100.0]}
    rings = decode_rings(lon, lat, lon_attrs, lat_attrs)
    assert [hole for hole, _ in rings] == [False, True]
    assert rings[0][1].tolist() == [[100.0, 20.0], [101.0, 20.0], [101.0, 21.0], [100.0, 21.0]]
    area = outline(rings, tolerance=0.001)
    assert abs(area.area - 0.75) < 1e-9  # the unit square less the hole of 0.5 x 0.5
    assert not area.contains(Point(100.5, 20.5)) and area.contains(Point(100.1, 20.1))
