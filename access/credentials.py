"""Issue, verify and revoke per-station staff credentials, each with one role (ROLES).

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
# station_admin: prices, nozzles, hours, promotions (and the controller's occupancy events) of its station;
# cashier: payments, refunds, invoices; attendant: redeem and confirm fueling. One station each.
ROLES = ("station_admin", "cashier", "attendant")
_DUMMY_SALT = bytes(16)


@dataclass(frozen=True)
class Issued:
    key_id: str
    station_id: int
    token: str
    role: str = "station_admin"


@dataclass(frozen=True, slots=True)
class Staff:
    """Who a verified station credential belongs to: a station and a role there."""

    station_id: int
    role: str


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


def check_nothing(secret: str) -> None:
    """As long as a check of `secret` against a stored hash: for a key id that does not exist."""
    _hash(secret, _DUMMY_SALT)


def issue(engine: Engine, station_id: int, role: str = "station_admin") -> Issued:
    """A new credential for the station's staff in `role`; the token is returned once and never stored."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: choose from {', '.join(ROLES)}")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO station_credentials (key_id, station_id, secret_hash, role) "
                "VALUES (:k, :s, :h, :r)"
            ),
            {"k": key_id, "s": station_id, "h": hash_secret(secret), "r": role},
        )
    return Issued(key_id, station_id, f"{key_id}.{secret}", role)


def verify(engine: Engine, token: str) -> Staff | None:
    """The station and role the token belongs to, or None (malformed, unknown, wrong secret or revoked)."""
    key_id, dot, secret = token.strip().partition(".")
    if not dot or not key_id or not secret:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT station_id, secret_hash, role FROM station_credentials "
                "WHERE key_id = :k AND revoked_at IS NULL"
            ),
            {"k": key_id},
        ).first()
    if row is None:
        _hash(secret, _DUMMY_SALT)
        return None
    return Staff(int(row[0]), str(row[2])) if check_secret(secret, row[1]) else None


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


def live_station(engine: Engine, key_id: str) -> Staff | None:
    """The station and role of a credential that is not revoked (no secret check: for re-checking a token
    that verified earlier, since a key id's secret never changes), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT station_id, role FROM station_credentials WHERE key_id = :k AND revoked_at IS NULL"),
            {"k": key_id},
        ).first()
    return Staff(int(row[0]), str(row[1])) if row is not None else None
