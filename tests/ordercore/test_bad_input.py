"""The order core refuses what it cannot store with its own problems (422 invalid-request naming the field)
instead of a 500, and bounds its requests like the API (413, 414, 431), over real HTTP; random bodies on
every write route never answer 500 nor leave an order that cannot be read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from ordercore.app import MAX_BODY_BYTES
from tests.api.test_fuzz_http import bodies
from tests.ordercore_support import OrdercoreServer, order_body
from tests.raw_http import RawAnswer, raw_request


def problem_of(answer: httpx.Response | RawAnswer, status: int, slug: str) -> dict[str, Any]:
    assert (answer.status_code if isinstance(answer, httpx.Response) else answer.status) == status
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"/problems/{slug}" and body["status"] == status
    return body


def post_raw(core: OrdercoreServer, path: str, content: bytes, **headers: str) -> httpx.Response:
    return core.client.post(path, content=content, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize("reason", [b'"a\\u0000b"', b'"a\\udc00b"'], ids=["nul", "lone-surrogate"])
def test_cancel_with_text_postgresql_cannot_hold_is_refused(
    core: OrdercoreServer, ordercore_engine: Engine, reason: bytes
) -> None:
    order = core.create("bad-cancel", order_body()).json()
    response = post_raw(core, f"/v1/orders/{order['order_id']}/cancel", b'{"reason": ' + reason + b"}")
    body = problem_of(response, 422, "invalid-request")
    assert [e["name"] for e in body["errors"]] == ["reason"]
    assert core.client.get(f"/v1/orders/{order['order_id']}").json()["state"] == "created"


def test_an_order_with_a_nul_in_any_text_is_refused_and_nothing_is_stored(
    core: OrdercoreServer, ordercore_engine: Engine
) -> None:
    body = order_body(driver_id="d\x00", quote_id="q\x00")
    response = core.client.post("/v1/orders", json=body, headers={"Idempotency-Key": "nul-order"})
    assert {e["name"] for e in problem_of(response, 422, "invalid-request")["errors"]} == {
        "driver_id",
        "quote_id",
    }
    with ordercore_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ordercore.orders")).scalar_one() == 0


def test_bodies_heads_and_targets_are_bounded(core: OrdercoreServer) -> None:
    big = order_body(quote_token="t" * MAX_BODY_BYTES)
    problem_of(
        core.client.post("/v1/orders", json=big, headers={"Idempotency-Key": "big"}), 413, "body-too-large"
    )
    deep = b'{"reason": ' + b"[" * 100 + b"]" * 100 + b"}"
    refused = problem_of(post_raw(core, "/v1/orders/ord_1/cancel", deep), 422, "invalid-request")
    assert "nested more than 32" in refused["errors"][0]["message"]
    head = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 50_000
    problem_of(raw_request(core.base_url, head), 431, "headers-too-large")
    problem_of(
        raw_request(core.base_url, b"GET /healthz?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: t"),
        414,
        "uri-too-long",
    )
    problem_of(raw_request(core.base_url, b"NOT HTTP"), 400, "invalid-http-request")


@pytest.fixture
def order_id(core: OrdercoreServer, ordercore_engine: Engine) -> str:
    created: str = core.create("fuzz-order", order_body()).json()["order_id"]
    return created


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_bodies_never_fail_and_never_poison_reads(
    core: OrdercoreServer, order_id: str, data: st.DataObject
) -> None:
    routes: list[tuple[str, dict[str, Any]]] = [
        (
            "/v1/orders",
            order_body(invoice={"title": "ACME", "tax_id": "91310000MA1K4ABC12", "email": "a@b.cn"}),
        ),
        (f"/v1/orders/{order_id}/cancel", {"reason": "changed my mind"}),
        (f"/v1/orders/{order_id}/pay", {"method": "sandbox", "amount": "188.40"}),
        (f"/v1/orders/{order_id}/complete", {"litres": "26.12", "amount": "188.40"}),
        (f"/v1/orders/{order_id}/invoice-request", {"title": "ACME", "email": "a@b.cn"}),
        ("/v1/attendant/redeem", {"station_id": 7, "code": "012345"}),
    ]
    path, valid = data.draw(st.sampled_from(routes))
    response = post_raw(core, path, data.draw(bodies(valid)), **{"Idempotency-Key": "fuzz-create"})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    assert core.client.get(f"/v1/orders/{order_id}").status_code == 200
    assert core.client.get("/v1/orders", params={"idempotency_key": "fuzz-create"}).status_code == 200
