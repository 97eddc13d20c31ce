"""Issue 9, item 4: bounded requests on the live server (served as bin/run serves it: uvicorn with
httpguard.protocol). A body limit on every route (413), a header limit (431), a request-target limit (414),
deeply nested JSON refused before parsing (400), and a problem body for every refusal, the HTTP parser's
own included."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from api.settings import Settings
from httpguard.limits import MAX_HEADER_BYTES, MAX_HEADERS, MAX_JSON_DEPTH, MAX_URL_BYTES
from tests.raw_http import RawAnswer, raw_request
from tests.support import LiveServer

OPERATOR = {"Authorization": "Bearer dev-operator-token", "Content-Type": "application/json"}
BODY_LIMIT = Settings().max_body_bytes


def problem_of(answer: httpx.Response | RawAnswer, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status if isinstance(answer, httpx.Response) else answer.status == status
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == status and body["detail"]
    return body


def template(name: str) -> dict[str, Any]:
    return {"id": "t1", "name": name, "discount": {"kind": "amount_off", "amount": "5"}}


def templates_stored(server: LiveServer) -> int:
    with server.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM coupon_templates")).scalar_one())


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: LiveServer) -> None:
    big = template("x" * BODY_LIMIT)
    response = server.client.post("/v1/operator/coupon-templates", json=big, headers=OPERATOR)
    assert "at most 1048576" in problem_of(response, 413, "body-too-large")["detail"]
    assert response.headers["connection"] == "close" and templates_stored(server) == 0
    under = server.client.post(
        "/v1/operator/coupon-templates", json=template("x" * 100_000), headers=OPERATOR
    )
    assert under.status_code == 201, under.text


def test_a_streamed_body_is_counted_as_it_arrives(server: LiveServer) -> None:
    def chunks() -> Any:
        for _ in range(5):
            yield b" " * (BODY_LIMIT // 4)

    response = server.client.post(
        "/v1/quotes/verify", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "passed 1048576 bytes" in problem_of(response, 413, "body-too-large")["detail"]


def test_the_occupancy_route_keeps_its_own_larger_limit(server: LiveServer) -> None:
    """2 MB is over the general limit, within occupancy's 4 MB: the route reads it (and wants a
    credential)."""
    response = server.client.post(
        "/v1/occupancy/events",
        content=b"[" + b" " * 2_000_000 + b"]",
        headers={"Content-Type": "application/json"},
    )
    assert problem_of(response, 401, "unauthorized")


def test_header_fields_over_the_limit_are_431(server: LiveServer) -> None:
    one_big = raw_request(server.base_url, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 100_000)
    assert "header fields" in problem_of(one_big, 431, "headers-too-large")["detail"]
    fields = b"".join(b"\r\nX-H%d: v" % i for i in range(MAX_HEADERS + 1))
    many = raw_request(server.base_url, b"GET /healthz HTTP/1.1\r\nHost: t" + fields)
    problem_of(many, 431, "headers-too-large")
    just_under = b"\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES - 200)
    assert (
        raw_request(
            server.base_url, b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close" + just_under
        ).status
        == 200
    )


@pytest.mark.parametrize("size", [MAX_URL_BYTES + 1, 70_000, 1_000_000])
def test_a_request_target_over_the_limit_is_414_with_a_problem_body(server: LiveServer, size: int) -> None:
    """httptools alone answered a plain-text 400 above 64 KiB and served anything below."""
    target = b"/v1/stations/nearby?lat=25&lon=102&x=" + b"a" * size
    answer = raw_request(server.base_url, b"GET " + target + b" HTTP/1.1\r\nHost: t")
    assert "request target" in problem_of(answer, 414, "uri-too-long")["detail"]


def test_a_target_just_within_the_limit_is_served(server: LiveServer) -> None:
    # parameters the route takes (an unknown one is a 400 unknown-parameter): `limit` again and again
    base = b"/v1/stations/nearby?lat=25.04&lon=102.71"
    target = base + b"&limit=20" * ((MAX_URL_BYTES - 20 - len(base)) // 9)
    assert (
        raw_request(server.base_url, b"GET " + target + b" HTTP/1.1\r\nHost: t\r\nConnection: close").status
        == 200
    )


@pytest.mark.parametrize(
    "head",
    [
        b"GARBAGE",
        b"FOO /healthz HTTP/1.1\r\nHost: t",
        b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-D: a\x00b",
        b"POST /v1/quotes/verify HTTP/1.1\r\nHost: t\r\nContent-Length: abc",
    ],
    ids=["not-http", "unknown-method", "nul-in-a-field", "bad-content-length"],
)
def test_what_the_parser_refuses_is_a_problem_too(server: LiveServer, head: bytes) -> None:
    problem_of(raw_request(server.base_url, head), 400, "invalid-http-request")


def nested(depth: int) -> bytes:
    return b'{"token": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_deeply_nested_json_is_refused_before_parsing(server: LiveServer) -> None:
    headers = {"Content-Type": "application/json"}
    too_deep = server.client.post("/v1/quotes/verify", content=nested(MAX_JSON_DEPTH + 1), headers=headers)
    assert (
        f"more than {MAX_JSON_DEPTH}"
        in problem_of(too_deep, 400, "invalid-parameter")["errors"][0]["message"]
    )
    at_limit = server.client.post("/v1/quotes/verify", content=nested(MAX_JSON_DEPTH), headers=headers)
    body = problem_of(at_limit, 400, "invalid-parameter")  # parsed, then refused by the body's schema
    assert [e["name"] for e in body["errors"]] == ["token"]


def test_brackets_and_escapes_inside_strings_are_text(server: LiveServer) -> None:
    """Brackets in a string are no nesting; an escaped backslash before u0000 is no NUL; a surrogate pair
    is one character."""
    name = "[" * 100 + "{" * 100 + '\\u0000 "quoted" \U0001f600'
    created = server.client.post("/v1/operator/coupon-templates", json=template(name), headers=OPERATOR)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "PUT"])
def test_unknown_methods_are_405_problems(server: LiveServer, method: str) -> None:
    for path in ("/v1/stations/nearby", "/v1/prices/compare", "/v1/prices/stats", "/v1/prices/effective"):
        problem_of(server.client.request(method, path), 405, "method-not-allowed")
