"""Bodies the service renders itself (bytes, not through a response model) match the schema it documents:
nearby and compare with every optional column, station detail, effective price, quote and verify, the
occupancy answers, each validated against its operation's response schema in the live /openapi.json."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.api.test_nearby_features import KUNMING
from tests.support import LiveServer

AROUND = {"lon": KUNMING[0], "lat": KUNMING[1], "radius_m": 10_000}


@pytest.fixture
def spec(server: LiveServer) -> dict[str, Any]:
    document: dict[str, Any] = server.get("/openapi.json").json()
    return document


def check(spec: dict[str, Any], operation_id: str, response: httpx.Response) -> dict[str, Any]:
    """The body of `response`, after validating it against the documented schema of its status."""
    op = next(o for ops in spec["paths"].values() for o in ops.values() if o["operationId"] == operation_id)
    documented = op["responses"][str(response.status_code)]
    media = response.headers["content-type"].split(";")[0]
    schema = documented["content"][media]["schema"]
    document = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:api", document)
    rooted = {**schema, "$schema": "https://json-schema.org/draft/2020-12/schema"}
    rooted = _rebase(rooted)
    validator = jsonschema.Draft202012Validator(rooted, registry=registry)
    body: dict[str, Any] = response.json()
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return body


def _rebase(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: (f"urn:api{v}" if k == "$ref" and v.startswith("#") else _rebase(v)) for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"prices": "true"},
        {"grade": "92", "prices": "true", "effective": "true", "wait": "true", "coord": "gcj02"},
        {"grade": "92", "sort": "price", "prices": "true"},
        {"grade": "92", "sort": "effective", "effective": "true", "litres": "30"},
        {"grade": "92", "sort": "wait", "wait": "true"},
        {"limit": 2},
    ],
)
def test_nearby_bodies_match_their_schema(
    server: LiveServer,
    town: dict[str, int],
    spec: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    response = server.get("/v1/stations/nearby", **AROUND, **extra)
    assert response.status_code == 200, response.text
    body = check(spec, "nearbyStations", response)
    assert body["items"], body


@pytest.mark.parametrize(
    "extra",
    [
        {"amount": "300"},
        {"litres": "40", "sort": "total"},
        {"tank_capacity": "55", "level": "0.2", "include_stale": "true", "wait": "true"},
    ],
)
def test_compare_bodies_match_their_schema(
    server: LiveServer,
    town: dict[str, int],
    spec: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    response = server.get("/v1/prices/compare", **AROUND, grade="92", **extra)
    assert response.status_code == 200, response.text
    assert check(spec, "comparePrices", response)["items"]


def test_single_station_bodies_match_their_schema(
    server: LiveServer,
    town: dict[str, int],
    spec: dict[str, Any],
) -> None:
    near = town["near"]
    check(spec, "getStation", server.get(f"/v1/stations/{near}", grade="92"))
    check(spec, "stationPrices", server.get(f"/v1/stations/{near}/prices", grade="92"))
    check(spec, "stationOccupancy", server.get(f"/v1/stations/{near}/occupancy"))
    question = {"station_id": near, "grade": "92", "fill": {"by_amount": "300.00"}}
    check(spec, "effectivePrice", server.client.post("/v1/prices/effective", json=question))
    quote = check(spec, "createQuote", server.client.post("/v1/quotes", json=question))
    check(spec, "verifyQuote", server.client.post("/v1/quotes/verify", json={"token": quote["token"]}))
    check(spec, "priceStats", server.get("/v1/prices/stats"))
    for operation_id, answer, slug in [
        ("getStation", server.get("/v1/stations/999999"), "station-not-found"),
        ("stationWait", server.get(f"/v1/stations/{near}/wait", grade="93"), "unknown-grade"),
        ("verifyQuote", server.client.post("/v1/quotes/verify", json={"token": "k.x.y"}), "invalid-quote"),
    ]:
        assert check(spec, operation_id, answer)["type"] == f"/problems/{slug}"


ALONG_STREET = {
    "type": "LineString",
    "coordinates": [[KUNMING[0] - 0.01, KUNMING[1]], [KUNMING[0] + 0.1, KUNMING[1]]],
}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"prices": True, "wait": True, "grade": "92", "coord": "gcj02"},
        {"sort": "total_cost", "fill": {"by_litres": "40"}, "consumption_l_per_100km": "9.5"},
        {"sort": "effective", "limit": 1},
    ],
)
def test_route_bodies_match_their_schema(
    server: LiveServer,
    town: dict[str, int],
    spec: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    response = server.client.post(
        "/v1/route/stations", json={"route": ALONG_STREET, "corridor_m": 500, **extra}
    )
    assert response.status_code == 200, response.text
    body = check(spec, "routeStations", response)
    assert body["items"], body
    refused = server.client.post("/v1/route/stations", json={"route": {"polyline": "????"}})
    assert check(spec, "routeStations", refused)["type"] == "/problems/invalid-route"
