"""The driver identity token: what the gateway signs is the driver; anything else is refused, by reason,
with expiry decided at the caller's `now` (never the machine's clock)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import jwt
import orjson
import pytest

from access.driver_tokens import DriverTokenKeys, InvalidDriverToken, mint, verify

KEYS = DriverTokenKeys(b"test-driver-token-key-0123456789abcdef", max_ttl_seconds=86_400)
NOW = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_a_token_names_its_driver_until_it_expires() -> None:
    token = mint(KEYS, "wx-1", NOW, ttl_seconds=600)
    assert verify(KEYS, token, NOW) == "wx-1"
    assert verify(KEYS, token, NOW + timedelta(seconds=599)) == "wx-1"
    with pytest.raises(InvalidDriverToken, match="expired"):
        verify(KEYS, token, NOW + timedelta(seconds=600))


def _resigned(token: str, **claims: object) -> str:
    _, body, _ = token.split(".")
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) | claims
    return jwt.encode(payload, b"another-key-that-is-long-enough-0123", algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (mint(DriverTokenKeys(b"another-key-that-is-long-enough-0123"), "wx-1", NOW), "signature"),
        (jwt.encode({"sub": "wx-1", "exp": 2**33}, None, algorithm="none"), "HS256"),
        (jwt.encode({"sub": "wx-1"}, KEYS.key, algorithm="HS256"), "'exp'"),
        (jwt.encode({"exp": 2**33}, KEYS.key, algorithm="HS256"), "'sub'"),
        (jwt.encode({"sub": "x" * 65, "exp": 2**33}, KEYS.key, algorithm="HS256"), "1 to 64"),
        (jwt.encode({"sub": "wx-1", "exp": "tomorrow"}, KEYS.key, algorithm="HS256"), "whole Unix seconds"),
        (mint(KEYS, "wx-1", NOW, ttl_seconds=2 * 86_400), "lifetime"),
        (mint(KEYS, "wx-1", NOW + timedelta(hours=1)), "lifetime"),  # issued in the future
        ("not.a.jwt", "not a JWT"),
        ("", "not a JWT"),
    ],
)
def test_anything_else_is_refused_with_its_reason(token: str, reason: str) -> None:
    with pytest.raises(InvalidDriverToken) as refused:
        verify(KEYS, token, NOW)
    assert reason in refused.value.reason


def test_a_changed_claim_breaks_the_signature() -> None:
    token = mint(KEYS, "wx-1", NOW)
    header, body, signature = token.split(".")
    other_body = mint(KEYS, "wx-2", NOW).split(".")[1]
    with pytest.raises(InvalidDriverToken, match="signature"):
        verify(KEYS, f"{header}.{other_body}.{signature}", NOW)
    with pytest.raises(InvalidDriverToken, match="signature"):
        verify(KEYS, _resigned(token, sub="wx-2"), NOW)
