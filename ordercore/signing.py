"""Callback signatures: `X-Ordercore-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.

Both sides use it: the order core signs, receivers (tests, the station service) verify.
"""

from __future__ import annotations

import hashlib
import hmac
import re

HEADER = "X-Ordercore-Signature"
TOLERANCE_SECONDS = 300
_HEADER = re.compile(r"^t=([0-9]{1,12}),v1=([0-9a-f]{64})$")


class BadSignature(Exception):
    pass


def _mac(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    secret: bytes, header: str | None, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS
) -> int:
    """The header's timestamp when it signs `body` with `secret` within `tolerance` s of `now`."""
    match = _HEADER.match(header or "")
    if match is None:
        raise BadSignature("missing or malformed signature header")
    timestamp, mac = int(match.group(1)), match.group(2)
    if abs(now - timestamp) > tolerance:
        raise BadSignature("signature timestamp too far from now")
    if not hmac.compare_digest(mac, _mac(secret, timestamp, body)):
        raise BadSignature("signature does not match")
    return timestamp
