"""Issue, verify and revoke per-station API credentials.

A token is '<key_id>.<secret>': key_id (16 hex chars) names the row, secret (32 random bytes, urlsafe
base64) is shown once and stored only as 'scrypt$n$r$p$<salt hex>$<hash hex>'. Verification recomputes
the hash and compares in constant time (hmac.compare_digest); an unknown key id still costs one scrypt so
that timing does not reveal which key ids exist. Revoked credentials never verify.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, text

N, R, P = 2**14, 8, 1
_DUMMY_SALT = bytes(16)


@dataclass(frozen=True)
class Issued:
    key_id: str
    station_id: int
    token: str


def _hash(secret: str, salt: bytes, n: int = N, r: int = R, p: int = P) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${salt.hex()}${_hash(secret, salt).hex()}"


def check_secret(secret: str, stored: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    return hmac.compare_digest(
        _hash(secret, bytes.fromhex(salt), int(n), int(r), int(p)), bytes.fromhex(digest)
    )


def issue(engine: Engine, station_id: int) -> Issued:
    """A new credential for the station; the token is returned once and never stored."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO station_credentials (key_id, station_id, secret_hash) VALUES (:k, :s, :h)"),
            {"k": key_id, "s": station_id, "h": hash_secret(secret)},
        )
    return Issued(key_id, station_id, f"{key_id}.{secret}")


def verify(engine: Engine, token: str) -> int | None:
    """The station id the token belongs to, or None (malformed, unknown, wrong secret or revoked)."""
    key_id, dot, secret = token.strip().partition(".")
    if not dot or not key_id or not secret:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT station_id, secret_hash FROM station_credentials "
                "WHERE key_id = :k AND revoked_at IS NULL"
            ),
            {"k": key_id},
        ).first()
    if row is None:
        _hash(secret, _DUMMY_SALT)
        return None
    return int(row[0]) if check_secret(secret, row[1]) else None


def revoke(engine: Engine, key_id: str) -> bool:
    """Revoke a credential; False when there is no such live credential."""
    with engine.begin() as conn:
        done = conn.execute(
            text(
                "UPDATE station_credentials SET revoked_at = now() WHERE key_id = :k AND revoked_at IS NULL"
            ),
            {"k": key_id},
        )
    return bool(done.rowcount)


def live_station(engine: Engine, key_id: str) -> int | None:
    """The station of a credential that is not revoked (no secret check: for re-checking a token that
    verified earlier, since a key id's secret never changes), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT station_id FROM station_credentials WHERE key_id = :k AND revoked_at IS NULL"),
            {"k": key_id},
        ).first()
    return int(row[0]) if row is not None else None
