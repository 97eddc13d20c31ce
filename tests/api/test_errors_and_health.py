"""Bad input answers 4xx problem details (RFC 9457), never 500; health, readiness and docs answer."""

from __future__ import annotations

import pytest

from tests.support import LiveServer

NEARBY = "/v1/stations/nearby"


def assert_problem(response, status: int, slug: str | None = None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("/problems/")
    if slug:
        assert body["type"] == f"/problems/{slug}"
    return body  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("params", "slug", "names"),
    [
        ({"lat": 91, "lon": 121}, "invalid-parameter", "lat"),
        ({"lat": "north", "lon": 121}, "invalid-parameter", "lat"),
        ({"lat": 31, "lon": 181}, "invalid-parameter", "lon"),
        ({"lon": 121}, "invalid-parameter", "lat"),
        ({"lat": 31, "lon": 121, "radius_m": 0}, "invalid-parameter", "radius_m"),
        ({"lat": 31, "lon": 121, "radius_m": 50_001}, "invalid-parameter", "radius_m"),
        ({"lat": 31, "lon": 121, "limit": 101}, "invalid-parameter", "limit"),
        ({"lat": 31, "lon": 121, "limit": 0}, "invalid-parameter", "limit"),
        ({"lat": 31, "lon": 121, "open_now": "maybe"}, "invalid-parameter", "open_now"),
        ({"lat": "nan", "lon": 121}, "invalid-parameter", "lat"),
        ({"lat": 31, "lon": "inf"}, "invalid-parameter", "lon"),
    ],
)
def test_bad_nearby_parameters(server: LiveServer, params: dict, slug: str, names: str) -> None:  # type: ignore[type-arg]
    body = assert_problem(server.get(NEARBY, **params), 400, slug)
    assert names in {e["name"] for e in body["errors"]}


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"coord": "mars"}, "invalid-coordinates"),
        ({"grade": "93#"}, "unknown-grade"),
        ({"cursor": "not-a-cursor"}, "invalid-search"),
    ],
)
def test_bad_nearby_values(server: LiveServer, params: dict, slug: str) -> None:  # type: ignore[type-arg]
    query = {"lat": 31.2, "lon": 121.4} | params
    assert_problem(server.get(NEARBY, **query), 400, slug)


def test_unknown_station_is_404(server: LiveServer) -> None:
    body = assert_problem(server.get("/v1/stations/987654321"), 404, "station-not-found")
    assert "987654321" in body["detail"]


@pytest.mark.parametrize("station_id", ["abc", "0", "-5", "99999999999999999999", "1.5"])
def test_malformed_station_id_is_400(server: LiveServer, station_id: str) -> None:
    assert_problem(server.get(f"/v1/stations/{station_id}"), 400, "invalid-parameter")


def test_unknown_route_and_method(server: LiveServer) -> None:
    assert_problem(server.get("/v1/nowhere"), 404, "not-found")
    assert_problem(server.client.post(NEARBY), 405, "method-not-allowed")


def test_health_readiness_and_docs(server: LiveServer) -> None:
    assert server.get("/healthz").json() == {"status": "ok"}
    ready = server.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    spec = server.get("/openapi.json").json()
    assert "/v1/stations/nearby" in spec["paths"] and "/v1/stations/{station_id}" in spec["paths"]
    params = {p["name"]: p for p in spec["paths"]["/v1/stations/nearby"]["get"]["parameters"]}
    assert params["radius_m"]["schema"]["maximum"] == 50_000 and params["limit"]["schema"]["maximum"] == 100
    assert params["coord"]["schema"]["default"] == "wgs84"
    assert server.get("/docs").status_code == 200
