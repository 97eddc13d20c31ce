"""The WeChat Pay sandbox: wx.requestPayment's parameters for an unpaid order, and WeChat's side of the
payment, which accepts only parameters the sandbox signed (the paySign is their credential)."""

from __future__ import annotations

import httpx

from tests.ordercore_support import Contract, OrdercoreServer, order_body


def test_signed_parameters_pay_their_order_and_nothing_else(
    core: OrdercoreServer, contract: Contract
) -> None:
    order = core.create("wx-1", order_body()).json()
    params = core.client.post(f"/v1/orders/{order['order_id']}/payment-params")
    assert params.status_code == 200, params.text
    contract.validate_response("POST", "/v1/orders/{order_id}/payment-params", params)
    pay = params.json()
    assert pay["package"] == f"prepay_id=wxsb_{order['order_id']}" and pay["signType"] == "HMAC-SHA256"
    other = core.create("wx-2", order_body()).json()
    wechat = f"{core.base_url}/sandbox/wxpay/pay"  # no service token: WeChat has none
    for forged in (
        pay | {"paySign": "A" * 64},
        pay | {"package": f"prepay_id=wxsb_{other['order_id']}"},  # another order, same signature
        pay | {"nonceStr": "changed"},
        pay | {"timeStamp": str(int(pay["timeStamp"]) + 1)},
    ):
        refused = httpx.post(wechat, json=forged, timeout=10)
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "/problems/invalid-payment"
        contract.validate_response("POST", "/sandbox/wxpay/pay", refused)
    paid = httpx.post(wechat, json=pay, timeout=10)
    assert paid.status_code == 200, paid.text
    contract.validate_response("POST", "/sandbox/wxpay/pay", paid)
    assert paid.json()["state"] == "paid" and paid.json()["payment"]["amount"] == order["payable"]
    assert httpx.post(wechat, json=pay, timeout=10).json()["state"] == "paid"  # idempotent
    assert core.client.get(f"/v1/orders/{other['order_id']}").json()["state"] == "created"
    again = core.client.post(f"/v1/orders/{order['order_id']}/payment-params")
    assert again.status_code == 409 and again.json()["type"] == "/problems/illegal-transition", again.text
    contract.validate_response("POST", "/v1/orders/{order_id}/payment-params", again)
