"""Verification codes and the attendant's QR payload `ocv1.<order_id>.<code>.<hmac>`."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from ordercore.machine import InvalidQr

QR_VERSION = "ocv1"
_QR = re.compile(r"^ocv1\.(ord_[0-9a-z]{1,64})\.([0-9]{6})\.([0-9a-f]{64})$")


def new_code() -> str:
    """Six random digits (leading zeros kept)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def _mac(secret: bytes, order_id: str, code: str) -> str:
    return hmac.new(secret, f"{QR_VERSION}.{order_id}.{code}".encode(), hashlib.sha256).hexdigest()


def qr_payload(secret: bytes, order_id: str, code: str) -> str:
    return f"{QR_VERSION}.{order_id}.{code}.{_mac(secret, order_id, code)}"


@dataclass(frozen=True)
class ScannedQr:
    order_id: str
    code: str


def verify_qr(secret: bytes, payload: str) -> ScannedQr:
    """The order and code a QR payload names; InvalidQr when malformed or not signed by us."""
    match = _QR.match(payload.strip())
    if match is None:
        raise InvalidQr("not an order-core QR payload (ocv1.<order_id>.<code>.<hmac>)")
    order_id, code, mac = match.groups()
    if not hmac.compare_digest(mac, _mac(secret, order_id, code)):
        raise InvalidQr("QR payload signature does not match")
    return ScannedQr(order_id, code)
