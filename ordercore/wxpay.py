"""The sandbox of WeChat Pay (JSAPI, as a mini-program pays): what `wx.requestPayment` needs, and the
check WeChat makes of it when the driver confirms.

`prepay` answers the five parameters of wx.requestPayment for an unpaid order: `timeStamp` (Unix seconds,
a string), `nonceStr`, `package` = "prepay_id=<id>", `signType` = "HMAC-SHA256" and `paySign`, the
upper-case hex HMAC-SHA256 of "appId=…&nonceStr=…&package=…&signType=…&timeStamp=…&key=<key>" (WeChat Pay
v2's signing of these fields, keys in ASCII order) under the merchant key. The sandbox's merchant key is
derived from the order core's QR secret, so it needs no secret of its own. `verify` is WeChat's side: a
request whose paySign does not match, or whose prepay id names no order, is refused (InvalidPayment).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from ordercore.machine import OrdercoreError

SIGN_TYPE = "HMAC-SHA256"
SANDBOX_APP_ID = "wx-sandbox-app"
_PREPAY = re.compile(r"^prepay_id=wxsb_(ord_[0-9a-z]{1,64})$")


class InvalidPayment(OrdercoreError):
    """wx.requestPayment parameters that this sandbox did not issue (or that were altered)."""


@dataclass(frozen=True)
class PaymentParams:
    time_stamp: str
    nonce_str: str
    package: str
    sign_type: str
    pay_sign: str

    def as_json(self) -> dict[str, str]:
        return {
            "timeStamp": self.time_stamp,
            "nonceStr": self.nonce_str,
            "package": self.package,
            "signType": self.sign_type,
            "paySign": self.pay_sign,
        }


def merchant_key(qr_secret: bytes) -> bytes:
    return hmac.new(qr_secret, b"wxpay-sandbox-merchant-key", hashlib.sha256).hexdigest().encode()


def _sign(key: bytes, fields: dict[str, str]) -> str:
    text = "&".join(f"{name}={fields[name]}" for name in sorted(fields)) + "&key=" + key.decode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest().upper()


def prepay(key: bytes, order_id: str, now_seconds: int) -> PaymentParams:
    fields = {
        "appId": SANDBOX_APP_ID,
        "timeStamp": str(now_seconds),
        "nonceStr": secrets.token_hex(16),
        "package": f"prepay_id=wxsb_{order_id}",
        "signType": SIGN_TYPE,
    }
    return PaymentParams(
        fields["timeStamp"], fields["nonceStr"], fields["package"], SIGN_TYPE, _sign(key, fields)
    )


def verify(key: bytes, params: PaymentParams) -> str:
    """The order the parameters pay for; InvalidPayment when they were not issued by prepay."""
    match = _PREPAY.match(params.package)
    if match is None or params.sign_type != SIGN_TYPE:
        raise InvalidPayment("package or signType is not one this sandbox issued")
    fields = {
        "appId": SANDBOX_APP_ID,
        "timeStamp": params.time_stamp,
        "nonceStr": params.nonce_str,
        "package": params.package,
        "signType": params.sign_type,
    }
    if not hmac.compare_digest(_sign(key, fields), params.pay_sign):
        raise InvalidPayment("paySign does not match the payment parameters")
    return match.group(1)
