"""Creating and finding orders: idempotency, validation, auth."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import Engine, text

from tests.ordercore_support import Contract, OrdercoreServer, order_body


def test_create_returns_the_order_with_its_code_and_qr(core: OrdercoreServer, contract: Contract) -> None:
    response = core.create("key-1", order_body())
    assert response.status_code == 201, response.text
    contract.validate_response("POST", "/v1/orders", response)
    order = response.json()
    assert order["state"] == "created"
    assert order["idempotency_key"] == "key-1"
    assert (order["payable"], order["list_amount"], order["litres"]) == ("188.40", "210.00", "26.12")
    assert order["coupons"] == ["17"] and order["points_used"] == 100
    assert order["fill"] == {"kind": "amount", "value": "200.00"}
    assert order["qr_payload"].startswith(f"ocv1.{order['order_id']}.{order['verification_code']}.")
    assert order["payment"] is None and order["cancel_reason"] is None


def test_same_key_same_body_returns_the_same_order(core: OrdercoreServer, ordercore_engine: Engine) -> None:
    first = core.create("key-2", order_body()).json()
    # Amounts written differently are the same request.
    again = core.create("key-2", order_body(payable="188.4", litres="26.120"))
    assert again.status_code == 200
    assert again.json()["order_id"] == first["order_id"]
    with ordercore_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ordercore.orders")).scalar() == 1


def test_same_key_different_body_is_a_conflict(core: OrdercoreServer, contract: Contract) -> None:
    core.create("key-3", order_body())
    response = core.create("key-3", order_body(payable="100.00"))
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/idempotency-conflict"
    contract.validate_response("POST", "/v1/orders", response)


def test_concurrent_creates_with_one_key_make_one_order(
    core: OrdercoreServer, ordercore_engine: Engine
) -> None:
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def create() -> None:
        with httpx.Client(base_url=core.base_url, headers=core.client.headers, timeout=10) as client:
            r = client.post("/v1/orders", json=order_body(), headers={"Idempotency-Key": "same-key"})
        with lock:
            results.append(r)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 11 + [201]
    assert len({r.json()["order_id"] for r in results}) == 1
    with ordercore_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ordercore.orders")).scalar() == 1


def test_find_by_idempotency_key(core: OrdercoreServer, contract: Contract) -> None:
    missing = core.client.get("/v1/orders", params={"idempotency_key": "nope"})
    assert missing.json() == {"items": []}
    order = core.create("key-4", order_body()).json()
    found = core.client.get("/v1/orders", params={"idempotency_key": "key-4"})
    contract.validate_response("GET", "/v1/orders", found)
    assert [o["order_id"] for o in found.json()["items"]] == [order["order_id"]]
    got = core.client.get(f"/v1/orders/{order['order_id']}")
    contract.validate_response("GET", "/v1/orders/{order_id}", got)
    assert got.json() == order


def test_codes_are_unique_among_the_live_orders_of_a_station(core: OrdercoreServer) -> None:
    codes = [core.create(f"k-{i}", order_body()).json()["verification_code"] for i in range(40)]
    assert len(set(codes)) == 40
    assert all(len(c) == 6 and c.isdigit() for c in codes)


def test_invalid_bodies_are_422_problems(core: OrdercoreServer, contract: Contract) -> None:
    cases = [
        order_body(payable=188.4),  # money as a JSON number
        order_body(payable="300.00"),  # more than list_amount
        order_body(currency="USD"),
        order_body(fill={"kind": "full", "value": "10"}),
        order_body(station_id="7"),
        {k: v for k, v in order_body().items() if k != "driver_id"},
        order_body(unexpected=1),
    ]
    for body in cases:
        response = core.create("key-5", body)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["type"] == "/problems/invalid-request"
        assert problem["errors"]
        contract.validate_response("POST", "/v1/orders", response)
    assert core.client.get("/v1/orders", params={"idempotency_key": "key-5"}).json() == {"items": []}
    no_key = core.client.post("/v1/orders", json=order_body())
    assert no_key.status_code == 422
    bad_key = core.create("has space", order_body())
    assert bad_key.status_code == 422


def test_every_call_needs_the_token(core: OrdercoreServer, contract: Contract) -> None:
    response = httpx.post(f"{core.base_url}/v1/orders", json=order_body(), headers={"Idempotency-Key": "k"})
    assert response.status_code == 401
    contract.validate_response("POST", "/v1/orders", response)
    wrong = httpx.get(f"{core.base_url}/v1/orders/ord_abc", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    assert httpx.get(f"{core.base_url}/healthz").status_code == 200
    assert httpx.get(f"{core.base_url}/readyz").json() == {"status": "ok"}


def test_unknown_order_is_404(core: OrdercoreServer, contract: Contract) -> None:
    response = core.client.get("/v1/orders/ord_0123456789abcdef01234567")
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/order-not-found"
    contract.validate_response("GET", "/v1/orders/{order_id}", response)
