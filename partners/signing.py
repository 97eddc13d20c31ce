"""Webhook signatures: HMAC-SHA256 over `<timestamp>.<body>` with the subscription's secret.

A delivery carries `X-Stations-Timestamp: <unix seconds>` and `X-Stations-Signature: v1=<hex digest>`.
A receiver recomputes the digest over the timestamp header, a dot and the raw body bytes, compares in
constant time, and refuses timestamps too far from its clock (replayed captures)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-Stations-Timestamp"
SIGNATURE_HEADER = "X-Stations-Signature"
EVENT_HEADER = "X-Stations-Event-Id"
ATTEMPT_HEADER = "X-Stations-Delivery-Attempt"
DEFAULT_TOLERANCE_S = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    now_unix: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within the tolerance of now."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now_unix - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signature_header)
