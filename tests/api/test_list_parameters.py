"""The list routes' documented parameters are their parser's: the query models that validate each request
also write the OpenAPI parameters, so every documented bound is the one the route enforces."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import LiveServer

BASE = {
    "/v1/stations/nearby": {"lat": "25.04", "lon": "102.71"},
    "/v1/prices/compare": {"lat": "25.04", "lon": "102.71", "grade": "92", "amount": "300"},
}
OPERATIONS = {"/v1/stations/nearby": "nearbyStations", "/v1/prices/compare": "comparePrices"}


def _bounded(spec: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    operation = spec["paths"][path]["get"]
    assert operation["operationId"] == OPERATIONS[path]
    params = [(p["name"], p["schema"]) for p in operation["parameters"] if p["in"] == "query"]
    return [(name, s) for name, s in params if {"minimum", "exclusiveMinimum", "maximum"} & set(s)]


@pytest.mark.parametrize("path", sorted(BASE))
def test_every_documented_bound_is_enforced(server: LiveServer, path: str) -> None:
    spec = server.get("/openapi.json").json()
    bounded = _bounded(spec, path)
    assert {"lat", "lon", "radius_m", "limit"} <= {name for name, _ in bounded}
    for name, schema in bounded:
        step = 1 if schema["type"] == "integer" else 0.001
        inside, outside = [], []
        if "minimum" in schema:
            inside.append(schema["minimum"])
            outside.append(schema["minimum"] - step)
        if "exclusiveMinimum" in schema:
            inside.append(schema["exclusiveMinimum"] + step)
            outside.append(schema["exclusiveMinimum"])
        inside.append(schema["maximum"])
        outside.append(schema["maximum"] + step)
        for value in inside:
            response = server.get(path, **{**BASE[path], name: str(value)})
            assert response.status_code == 200, (name, value, response.text)
        for value in outside:
            response = server.get(path, **{**BASE[path], name: str(value)})
            assert response.status_code == 400, (name, value, response.text)
            assert [e["name"] for e in response.json()["errors"]] == [name]


@pytest.mark.parametrize("path", sorted(BASE))
def test_every_documented_parameter_is_read(server: LiveServer, path: str) -> None:
    """A documented parameter given a value no parameter of its type takes is refused by name."""
    spec = server.get("/openapi.json").json()
    operation = spec["paths"][path]["get"]
    typed = [
        p for p in operation["parameters"] if p["schema"].get("type") in ("number", "integer", "boolean")
    ]
    assert len(typed) >= 6
    for parameter in typed:
        response = server.get(path, **{**BASE[path], parameter["name"]: "not-a-value"})
        assert response.status_code == 400, (parameter["name"], response.text)
        assert parameter["name"] in [e["name"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("raw", "accepted"),
    [("300", True), ("300.5", True), ("0.01", True), ("1e2", False), ("0300", False), ("7.775", False)],
)
def test_a_fill_amount_is_exactly_what_its_pattern_says(server: LiveServer, raw: str, accepted: bool) -> None:
    """In range is not enough: an exponent, a leading zero or fractions of a fen are refused, as
    documented."""
    base = {"lat": 25.04, "lon": 102.71, "grade": "92"}
    for path, params in (
        ("/v1/stations/nearby", {**base, "effective": "true", "amount": raw}),
        ("/v1/prices/compare", {**base, "amount": raw}),
    ):
        response = server.get(path, **params)
        if accepted:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 400, response.text
            assert [e["name"] for e in response.json()["errors"]] == ["amount"]
