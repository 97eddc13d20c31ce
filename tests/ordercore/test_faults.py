"""Fault injection (/sandbox/faults) for the client's fault tests."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from tests.ordercore_support import (
    CallbackReceiver,
    Contract,
    OrdercoreServer,
    order_body,
    ordercore_settings,
    running_ordercore,
)
from tests.support import wait_until


def _items(core: OrdercoreServer, key: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = core.client.get("/v1/orders", params={"idempotency_key": key}).json()[
        "items"
    ]
    return items


def test_failures_before_commit_store_nothing(core: OrdercoreServer, contract: Contract) -> None:
    set_ = core.set_faults(fail_status=503, fail_count=2)
    contract.validate_response("POST", "/sandbox/faults", set_)
    assert set_.json() == {
        "delay_ms": 0,
        "fail_status": 503,
        "fail_count": 2,
        "fail_after_commit": False,
        "hold": False,
    }
    for _ in range(2):
        failed = core.create("f-1", order_body())
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "1"
        assert failed.json()["type"] == "/problems/injected-fault"
        assert _items(core, "f-1") == []
    assert core.client.get("/sandbox/faults").json()["fail_count"] == 0
    assert core.create("f-1", order_body()).status_code == 201


def test_failure_after_commit_leaves_the_order_for_a_retry(core: OrdercoreServer) -> None:
    core.set_faults(fail_status=500, fail_count=1, fail_after_commit=True)
    failed = core.create("f-2", order_body())
    assert failed.status_code == 500
    (order,) = _items(core, "f-2")
    retried = core.create("f-2", order_body())
    assert retried.status_code == 200
    assert retried.json()["order_id"] == order["order_id"]


def test_answer_after_the_client_gave_up(core: OrdercoreServer) -> None:
    core.set_faults(delay_ms=1500, fail_after_commit=True)
    with pytest.raises(httpx.ReadTimeout):
        core.client.post("/v1/orders", json=order_body(), headers={"Idempotency-Key": "f-3"}, timeout=0.3)
    # The order exists although the client saw no answer.
    (order,) = wait_until(lambda: _items(core, "f-3"), what="the order the client gave up on")
    assert order["state"] == "created"


def test_slow_before_commit_and_fail_all_until_cleared(core: OrdercoreServer, contract: Contract) -> None:
    core.set_faults(delay_ms=1500)
    with pytest.raises(httpx.ReadTimeout):
        core.client.post("/v1/orders", json=order_body(), headers={"Idempotency-Key": "f-4"}, timeout=0.3)
    core.set_faults(fail_status=502, fail_count=-1)  # replaces the delay
    assert [core.create(f"f-5-{i}", order_body()).status_code for i in range(3)] == [502, 502, 502]
    cleared = core.clear_faults()
    assert cleared.status_code == 204
    contract.validate_response("DELETE", "/sandbox/faults", cleared)
    assert core.create("f-5-0", order_body()).status_code == 201
    # The delayed create was still running when the client gave up: it did create the order afterwards.
    wait_until(lambda: _items(core, "f-4"), what="the delayed order")
    invalid = core.set_faults(fail_status=200)
    assert invalid.status_code == 422
    contract.validate_response("POST", "/sandbox/faults", invalid)


def test_a_hold_lasts_until_the_faults_are_cleared(core: OrdercoreServer, contract: Contract) -> None:
    held = core.set_faults(hold=True)
    contract.validate_response("POST", "/sandbox/faults", held)
    for key in ("h-1", "h-2"):  # held however long the client waits
        with pytest.raises(httpx.ReadTimeout):
            core.client.post("/v1/orders", json=order_body(), headers={"Idempotency-Key": key}, timeout=0.5)
    assert _items(core, "h-1") == [] and _items(core, "h-2") == []  # held before anything is stored
    assert core.clear_faults().status_code == 204
    wait_until(lambda: _items(core, "h-1") and _items(core, "h-2"), what="the held creates, released")
    core.set_faults(hold=True, fail_after_commit=True)
    with pytest.raises(httpx.ReadTimeout):
        core.client.post("/v1/orders", json=order_body(), headers={"Idempotency-Key": "h-3"}, timeout=0.5)
    (order,) = _items(core, "h-3")  # committed, then held: the order exists although no answer came
    assert order["state"] == "created"
    core.set_faults(fail_status=502, fail_count=1)  # faults without a hold release the held call too
    assert core.create("h-4", order_body()).status_code == 502


def test_faults_api_is_absent_without_sandbox_admin(
    ordercore_engine: Engine, database_url: str, receiver: CallbackReceiver
) -> None:
    with running_ordercore(ordercore_settings(database_url, receiver.url, sandbox_admin=False)) as core:
        assert core.set_faults(fail_status=500, fail_count=-1).status_code == 404
        assert core.create("f-6", order_body()).status_code == 201
