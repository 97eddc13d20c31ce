"""The driver identity: a short-lived JWT (HS256) the mini-program gateway signs after WeChat login.

Claims: `sub` = the driver id (1-64 characters), `exp` (required) and `iat` (optional), Unix seconds.
Expiry is decided against the caller's `now` (the injected clock), never the machine's: PyJWT's own time
checks are switched off and done here. A token whose lifetime (exp - iat) exceeds the configured maximum
is refused too, so a leaked long-lived token cannot be minted by a careless gateway.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

ALGORITHM = "HS256"
MAX_DRIVER_ID = 64


class InvalidDriverToken(Exception):
    """Unsigned, forged, malformed or expired driver identity; `reason` says which (no secret in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DriverTokenKeys:
    key: bytes
    max_ttl_seconds: int = 86_400


def mint(keys: DriverTokenKeys, driver_id: str, now: datetime, ttl_seconds: int = 3600) -> str:
    """A token for `driver_id` valid from `now` for `ttl_seconds` (what the gateway does after login)."""
    issued = int(now.timestamp())
    claims = {"sub": driver_id, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, keys.key, algorithm=ALGORITHM)


def verify(keys: DriverTokenKeys, token: str, now: datetime) -> str:
    """The driver id of a valid token at `now`; InvalidDriverToken otherwise."""
    sub, exp, iat = _claims(keys.key, token)
    if now.timestamp() >= exp:
        raise InvalidDriverToken("the driver token has expired: sign in again")
    if iat is not None and (iat > now.timestamp() + 60 or exp - iat > keys.max_ttl_seconds):
        raise InvalidDriverToken("the driver token's lifetime is not acceptable")
    return sub


# A driver sends one token with every request of a session: its signature is checked once per worker
# (PyJWT's parse and check measured ~100 µs, a nearby answer ~250 µs); time is checked on every call.
# Only well-signed tokens are remembered (a refusal raises, which lru_cache does not store).
@functools.lru_cache(maxsize=8192)
def _claims(key: bytes, token: str) -> tuple[str, int, int | None]:
    """sub, exp and iat of a token signed with `key`; InvalidDriverToken when it is not."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidDriverToken("the driver token is not a JWT") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidDriverToken(f"the driver token must be signed with {ALGORITHM}")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "sub"],
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidDriverToken("the driver token's signature does not match") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidDriverToken(f"the driver token has no '{exc.claim}' claim") from None
    except jwt.PyJWTError:
        raise InvalidDriverToken("the driver token is malformed") from None
    sub, exp, iat = claims.get("sub"), claims.get("exp"), claims.get("iat")
    if not isinstance(sub, str) or not 1 <= len(sub) <= MAX_DRIVER_ID:
        raise InvalidDriverToken(f"the driver token's 'sub' must be 1 to {MAX_DRIVER_ID} characters")
    if not isinstance(exp, int) or not _seconds(exp) or (iat is not None and not _seconds(iat)):
        raise InvalidDriverToken("the driver token's 'exp' and 'iat' must be whole Unix seconds")
    return sub, exp, iat if isinstance(iat, int) else None


def _seconds(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**40
