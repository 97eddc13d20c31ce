"""The state machine over HTTP: the full flow, one-time redemption, QR, illegal transitions."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlalchemy import Engine

from ordercore import repository
from tests.ordercore_support import CallbackReceiver, Contract, OrdercoreServer, order_body


def _created(core: OrdercoreServer, key: str, **overrides: Any) -> dict[str, Any]:
    response = core.create(key, order_body(**overrides))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def _paid(core: OrdercoreServer, key: str, **overrides: Any) -> dict[str, Any]:
    response = core.pay(_created(core, key, **overrides))
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}", body
    return body


def test_full_flow_with_history_and_callbacks(
    core: OrdercoreServer, receiver: CallbackReceiver, contract: Contract, ordercore_engine: Engine
) -> None:
    order = _created(
        core, "flow", invoice={"title": "ACME Ltd", "tax_id": "91310000MA1K4ABC12", "email": "a@b.cn"}
    )
    paid = core.pay(order)
    contract.validate_response("POST", "/v1/orders/{order_id}/pay", paid)
    assert paid.json()["state"] == "paid"
    payment = paid.json()["payment"]
    assert payment["method"] == "sandbox" and payment["amount"] == "188.40"
    assert core.pay(order).json() == paid.json()  # paying again changes nothing

    redeemed = core.redeem(7, order["verification_code"])
    contract.validate_response("POST", "/v1/attendant/redeem", redeemed)
    assert redeemed.json()["state"] == "fueling"
    assert redeemed.json()["redeemed_at"] is not None

    completed = core.complete(order, amount="188.40")
    contract.validate_response("POST", "/v1/orders/{order_id}/complete", completed)
    done = completed.json()
    assert done["state"] == "completed"
    assert done["dispensed"] == {"litres": "26.12", "amount": "188.40"}
    # The order asked for an invoice at creation: recorded on completion.
    assert done["invoice_request"]["title"] == "ACME Ltd"
    assert done["invoice_request"]["amount"] == "188.40"

    events = receiver.wait_for_states(order["order_id"], ["created", "paid", "fueling", "completed"])
    assert [e["previous_state"] for e in events] == [None, "created", "paid", "fueling"]
    assert events[-1]["order"]["invoice_request"] is not None
    for event in events:
        contract.validate(event, "CallbackEvent")
    with ordercore_engine.connect() as conn:
        history = repository.transitions(conn, order["order_id"])
    assert [(f, t) for f, t, _ in history] == [
        (None, "created"),
        ("created", "paid"),
        ("paid", "fueling"),
        ("fueling", "completed"),
    ]


def test_invoice_request_only_after_completion_and_once(core: OrdercoreServer, contract: Contract) -> None:
    order = _paid(core, "inv")
    invoice = {"title": "Zhang San", "tax_id": None, "email": "z@example.cn"}
    path = f"/v1/orders/{order['order_id']}/invoice-request"
    early = core.post(path, invoice)
    body = _problem(early, 409, "order-not-completed")
    assert body["state"] == "paid"
    contract.validate_response("POST", "/v1/orders/{order_id}/invoice-request", early)
    core.redeem(7, order["verification_code"])
    core.complete(order, amount="180.00")
    first = core.post(path, invoice)
    assert first.status_code == 201
    contract.validate_response("POST", "/v1/orders/{order_id}/invoice-request", first)
    assert first.json()["invoice_request"]["amount"] == "180.00"
    again = core.post(path, {**invoice, "title": "Someone else"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert (
        core.client.get(f"/v1/orders/{order['order_id']}").json()["invoice_request"]
        == first.json()["invoice_request"]
    )


def test_code_is_redeemable_once_and_only_when_paid(core: OrdercoreServer, contract: Contract) -> None:
    order = _created(core, "once")
    unpaid = core.redeem(7, order["verification_code"])
    _problem(unpaid, 409, "order-not-paid")
    contract.validate_response("POST", "/v1/attendant/redeem", unpaid)
    core.pay(order)
    assert core.redeem(7, order["verification_code"]).status_code == 200
    second = core.redeem(7, order["verification_code"])
    _problem(second, 409, "code-already-redeemed")
    core.complete(order)
    # Still refused after completion (the code is no longer live, but it was this order's).
    _problem(core.redeem(7, order["verification_code"]), 409, "code-already-redeemed")


def test_wrong_station_or_unknown_code_is_404(core: OrdercoreServer, contract: Contract) -> None:
    order = _paid(core, "station")
    wrong = core.redeem(8, order["verification_code"])
    _problem(wrong, 404, "order-not-found")
    contract.validate_response("POST", "/v1/attendant/redeem", wrong)
    other_code = f"{(int(order['verification_code']) + 1) % 1_000_000:06d}"
    _problem(core.redeem(7, other_code), 404, "order-not-found")
    qr_wrong_station = core.post("/v1/attendant/redeem", {"station_id": 8, "qr_payload": order["qr_payload"]})
    _problem(qr_wrong_station, 404, "order-not-found")
    assert core.client.get(f"/v1/orders/{order['order_id']}").json()["state"] == "paid"


def test_qr_redeems_once_and_forged_qr_is_refused(core: OrdercoreServer, contract: Contract) -> None:
    order = _paid(core, "qr")
    prefix, order_id, code, mac = order["qr_payload"].split(".")
    forged_code = f"{prefix}.{order_id}.{(int(code) + 1) % 1_000_000:06d}.{mac}"
    forged_mac = f"{prefix}.{order_id}.{code}.{'0' * 64}"
    for payload in (forged_code, forged_mac, "not-a-qr", order["qr_payload"] + "0"):
        response = core.post("/v1/attendant/redeem", {"station_id": 7, "qr_payload": payload})
        _problem(response, 422, "invalid-qr")
        contract.validate_response("POST", "/v1/attendant/redeem", response)
    ok = core.post("/v1/attendant/redeem", {"station_id": 7, "qr_payload": order["qr_payload"]})
    assert ok.status_code == 200 and ok.json()["state"] == "fueling"
    again = core.post("/v1/attendant/redeem", {"station_id": 7, "qr_payload": order["qr_payload"]})
    _problem(again, 409, "code-already-redeemed")
    both = core.post(
        "/v1/attendant/redeem", {"station_id": 7, "code": code, "qr_payload": order["qr_payload"]}
    )
    _problem(both, 422, "invalid-request")


def test_pay_amount_must_equal_payable(core: OrdercoreServer, contract: Contract) -> None:
    order = _created(core, "amount")
    path = f"/v1/orders/{order['order_id']}/pay"
    for amount in ("188.39", "210.00", "0.00"):
        response = core.post(path, {"method": "sandbox", "amount": amount})
        _problem(response, 422, "amount-mismatch")
        contract.validate_response("POST", "/v1/orders/{order_id}/pay", response)
    _problem(core.post(path, {"method": "sandbox", "amount": 188.4}), 422, "invalid-request")
    assert core.post(path, {"method": "sandbox", "amount": "188.4"}).json()["state"] == "paid"


def test_cancel_and_refund(core: OrdercoreServer, receiver: CallbackReceiver, contract: Contract) -> None:
    created = _created(core, "c1")
    cancel = core.post(f"/v1/orders/{created['order_id']}/cancel", {"reason": "driver left"})
    contract.validate_response("POST", "/v1/orders/{order_id}/cancel", cancel)
    assert (cancel.json()["state"], cancel.json()["cancel_reason"]) == ("cancelled", "driver left")
    again = core.post(f"/v1/orders/{created['order_id']}/cancel", {"reason": "again"})
    assert again.status_code == 200 and again.json() == cancel.json()

    paid = _paid(core, "c2")
    refunded = core.post(f"/v1/orders/{paid['order_id']}/cancel", {"reason": "pump broken"})
    assert refunded.json()["state"] == "refunded"
    assert core.post(f"/v1/orders/{paid['order_id']}/cancel", {"reason": "x"}).json()["state"] == "refunded"

    done = _paid(core, "c3")
    core.redeem(7, done["verification_code"])
    core.complete(done)
    refund = core.post(f"/v1/orders/{done['order_id']}/refund", {"reason": "complaint"})
    contract.validate_response("POST", "/v1/orders/{order_id}/refund", refund)
    assert refund.json()["state"] == "refunded"
    receiver.wait_for_states(created["order_id"], ["created", "cancelled"])
    receiver.wait_for_states(paid["order_id"], ["created", "paid", "refunded"])
    receiver.wait_for_states(done["order_id"], ["created", "paid", "fueling", "completed", "refunded"])


def test_illegal_transitions_are_409(core: OrdercoreServer, contract: Contract) -> None:
    created = _created(core, "i1")
    oid = created["order_id"]
    response = core.complete(created)
    body = _problem(response, 409, "illegal-transition")
    assert body["state"] == "created"
    contract.validate_response("POST", "/v1/orders/{order_id}/complete", response)
    refund = core.post(f"/v1/orders/{oid}/refund", {"reason": "x"})
    _problem(refund, 409, "illegal-transition")
    contract.validate_response("POST", "/v1/orders/{order_id}/refund", refund)

    fueling = _paid(core, "i2")
    core.redeem(7, fueling["verification_code"])
    cancel = core.post(f"/v1/orders/{fueling['order_id']}/cancel", {"reason": "x"})
    _problem(cancel, 409, "illegal-transition")
    contract.validate_response("POST", "/v1/orders/{order_id}/cancel", cancel)
    _problem(
        core.post(f"/v1/orders/{fueling['order_id']}/refund", {"reason": "x"}), 409, "illegal-transition"
    )
    over = core.complete(fueling, amount="188.41")
    _problem(over, 422, "amount-exceeds-payable")

    core.post(f"/v1/orders/{oid}/cancel", {"reason": "x"})
    for response in (core.pay(created), core.redeem(7, created["verification_code"]), core.complete(created)):
        assert response.status_code in (404, 409), response.text
    _problem(core.pay(created), 409, "illegal-transition")
    assert core.client.get(f"/v1/orders/{oid}").json()["state"] == "cancelled"


def test_concurrent_redeems_of_one_code_let_exactly_one_through(core: OrdercoreServer) -> None:
    order = _paid(core, "race")
    statuses: list[int] = []
    lock = threading.Lock()

    def redeem() -> None:
        with httpx.Client(base_url=core.base_url, headers=core.client.headers, timeout=10) as client:
            r = client.post(
                "/v1/attendant/redeem", json={"station_id": 7, "code": order["verification_code"]}
            )
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=redeem) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 9
