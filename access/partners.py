"""Partner accounts and their API keys (issue 15, part 1).

A partner (a map app, a price-comparison site) has a default coordinate system ('wgs84' | 'gcj02' |
'bd09') and language ('zh' | 'en') for its answers, a rate limit for each of its keys (token bucket:
`rate_per_second` refill, `burst` capacity) and a daily quota (requests per China day, None = unlimited).

A key is '<key_id>.<secret>' like a station credential (access/credentials.py): the secret is shown once
and kept only as a salted scrypt hash. Each key carries scopes from SCOPES. Rotation issues a new key with
the same scopes while the old one stays valid until a given expiry (the overlap); revocation ends a key at
once. Whether a key is live (not revoked, not expired) is checked on every request by the quota statement
(access/quotas.py), so a revocation takes effect on the next request on every worker.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from access.credentials import check_nothing, check_secret, hash_secret

COORDS = ("wgs84", "gcj02", "bd09")
LANGUAGES = ("zh", "en")
SCOPES = frozenset({"stations:read", "prices:read", "waits:read", "feed:read", "webhooks:manage"})
DEFAULT_RATE_PER_SECOND = 10.0
DEFAULT_BURST = 20
DEFAULT_DAILY_QUOTA = 100_000


class PartnerError(ValueError):
    """A partner or key request that cannot be done (the message says why)."""


class PartnerNotFound(PartnerError):
    pass


class KeyNotFound(PartnerError):
    pass


@dataclass(frozen=True, slots=True)
class PartnerAccount:
    partner_id: int
    name: str
    coord: str
    language: str
    rate_per_second: float
    burst: int
    daily_quota: int | None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as listed (never its secret)."""

    key_id: str
    partner_id: int
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    replaces: str | None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: `token` is shown once and never stored."""

    key_id: str
    partner_id: int
    scopes: frozenset[str]
    token: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """Who a verified token belongs to."""

    account: PartnerAccount
    key_id: str
    scopes: frozenset[str]


def checked_scopes(scopes: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(s.strip() for s in scopes if s.strip())
    unknown = sorted(wanted - SCOPES)
    if unknown:
        raise PartnerError(f"unknown scope(s) {', '.join(unknown)}: choose from {', '.join(sorted(SCOPES))}")
    if not wanted:
        raise PartnerError("a key needs at least one scope")
    return wanted


_RETURNING = " RETURNING id, name, coord, language, rate_per_second, burst, daily_quota"
_SELECT = "SELECT id, name, coord, language, rate_per_second, burst, daily_quota FROM partners"


def _account(row: tuple[object, ...]) -> PartnerAccount:
    pid, name, coord, language, rate, burst, quota = row
    return PartnerAccount(
        int(str(pid)),
        str(name),
        str(coord),
        str(language),
        float(str(rate)),
        int(str(burst)),
        None if quota is None else int(str(quota)),
    )


def create_partner(
    engine: Engine,
    name: str,
    coord: str = "wgs84",
    language: str = "zh",
    rate_per_second: float = DEFAULT_RATE_PER_SECOND,
    burst: int = DEFAULT_BURST,
    daily_quota: int | None = DEFAULT_DAILY_QUOTA,
) -> PartnerAccount:
    if not name.strip():
        raise PartnerError("a partner needs a name")
    if coord not in COORDS:
        raise PartnerError(f"coord {coord!r}: choose from {', '.join(COORDS)}")
    if language not in LANGUAGES:
        raise PartnerError(f"language {language!r}: choose from {', '.join(LANGUAGES)}")
    if not rate_per_second > 0 or burst < 1 or (daily_quota is not None and daily_quota < 0):
        raise PartnerError("rate_per_second > 0, burst >= 1 and daily_quota >= 0 (or none)")
    try:
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "INSERT INTO partners (name, coord, language, rate_per_second, burst, daily_quota) "
                    "VALUES (:n, :c, :l, :r, :b, :q)" + _RETURNING
                ),
                {
                    "n": name.strip(),
                    "c": coord,
                    "l": language,
                    "r": rate_per_second,
                    "b": burst,
                    "q": daily_quota,
                },
            ).one()
    except IntegrityError as exc:
        raise PartnerError(f"a partner named {name.strip()!r} exists already") from exc
    return _account(tuple(row))


def get_partner(engine: Engine, partner_id: int) -> PartnerAccount:
    with engine.connect() as conn:
        row = conn.execute(text(_SELECT + " WHERE id = :p"), {"p": partner_id}).first()
    if row is None:
        raise PartnerNotFound(f"no partner {partner_id}")
    return _account(tuple(row))


def list_partners(engine: Engine) -> list[tuple[PartnerAccount, list[KeyInfo]]]:
    """Every partner with its keys (live, expired and revoked), by id."""
    with engine.connect() as conn:
        accounts = [_account(tuple(r)) for r in conn.execute(text(_SELECT + " ORDER BY id"))]
        keys = conn.execute(
            text(
                "SELECT key_id, partner_id, scopes, created_at, expires_at, revoked_at, replaces "
                "FROM partner_keys ORDER BY created_at, key_id"
            )
        ).all()
    by_partner: dict[int, list[KeyInfo]] = {a.partner_id: [] for a in accounts}
    for k in keys:
        by_partner[int(k[1])].append(KeyInfo(k[0], int(k[1]), frozenset(k[2]), k[3], k[4], k[5], k[6]))
    return [(a, by_partner[a.partner_id]) for a in accounts]


def create_key(
    engine: Engine,
    partner_id: int,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
    replaces: str | None = None,
) -> IssuedKey:
    """A new key for the partner; the token is returned once and never stored."""
    wanted = checked_scopes(scopes)
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM partners WHERE id = :p"), {"p": partner_id}).first() is None:
            raise PartnerNotFound(f"no partner {partner_id}")
        conn.execute(
            text(
                "INSERT INTO partner_keys (key_id, partner_id, secret_hash, scopes, expires_at, replaces) "
                "VALUES (:k, :p, :h, :s, :e, :r)"
            ),
            {
                "k": key_id,
                "p": partner_id,
                "h": hash_secret(secret),
                "s": sorted(wanted),
                "e": expires_at,
                "r": replaces,
            },
        )
    return IssuedKey(key_id, partner_id, wanted, f"{key_id}.{secret}", expires_at)


def rotate_key(engine: Engine, key_id: str, now: datetime, overlap: timedelta) -> IssuedKey:
    """A new key with the old key's partner and scopes; the old key stays valid until now + overlap (or
    its own earlier expiry). A revoked or expired key cannot be rotated."""
    if overlap < timedelta(0):
        raise PartnerError("the overlap cannot be negative")
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "UPDATE partner_keys SET expires_at = LEAST(COALESCE(expires_at, :until), :until) "
                "WHERE key_id = :k AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now) "
                "RETURNING partner_id, scopes"
            ),
            {"k": key_id, "now": now, "until": now + overlap},
        ).first()
    if row is None:
        raise KeyNotFound(f"no live key {key_id}")
    return create_key(engine, int(row[0]), row[1], replaces=key_id)


def revoke_key(engine: Engine, key_id: str, now: datetime) -> bool:
    """End a key at once; False when there is no such unrevoked key."""
    with engine.begin() as conn:
        done = conn.execute(
            text("UPDATE partner_keys SET revoked_at = :now WHERE key_id = :k AND revoked_at IS NULL"),
            {"k": key_id, "now": now},
        )
    return bool(done.rowcount)


def verify(engine: Engine, token: str, now: datetime) -> KeyHolder | None:
    """The holder of a live token, or None (malformed, unknown, wrong secret, revoked or expired)."""
    key_id, dot, secret = token.strip().partition(".")
    if not dot or not key_id or not secret:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT k.secret_hash, k.scopes, p.id, p.name, p.coord, p.language, p.rate_per_second, "
                "p.burst, p.daily_quota FROM partner_keys k JOIN partners p ON p.id = k.partner_id "
                "WHERE k.key_id = :k AND k.revoked_at IS NULL "
                "AND (k.expires_at IS NULL OR k.expires_at > :now)"
            ),
            {"k": key_id, "now": now},
        ).first()
    if row is None:
        check_nothing(secret)
        return None
    if not check_secret(secret, row[0]):
        return None
    return KeyHolder(_account(tuple(row[2:])), key_id, frozenset(row[1]))
