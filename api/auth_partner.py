"""Partner authentication and quotas: `Authorization: Bearer <key_id>.<secret>` (a partner key, issued with
`python -m access.cli partner key-create`), security scheme `partnerKey`.

`partner_with(scope)` is the dependency of every partner route: it verifies the key (scrypt, ~50 ms, so
each worker remembers a success for `partner_auth_cache_seconds`), then runs the quota statement
(access/quotas.py), which also checks that the key is still live: a revoked or expired key is refused on
its next request on every worker and node, whatever the cache holds. Then the scope: 403 without it.
The rate-limit headers of a served request are left in the request's state for `RateLimitHeaders`
(api/rate_headers.py) to add to whatever response the route returns (streams included).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from access import partners, quotas
from access.token_cache import token_key
from api.services import services_of

STATE_KEY = "ratelimit_headers"

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="partnerKey",
    bearerFormat="<key_id>.<secret>",
    description="a partner API key, issued with `python -m access.cli partner key-create PARTNER_ID`",
)


@dataclass(frozen=True, slots=True)
class Partner:
    """The partner a request comes from: its defaults (coordinate system, language) and its key's scopes."""

    partner_id: int
    name: str
    coord: str  # 'wgs84' | 'gcj02' | 'bd09'
    language: str  # 'zh' | 'en'
    scopes: frozenset[str]
    key_id: str


class PartnerUnauthorized(Exception):
    """No partner key, or one that is unknown, revoked or expired."""


class PartnerForbidden(Exception):
    """A live key without the scope the route needs."""


class QuotaExceeded(Exception):
    """The key's bucket is empty (rate) or the partner's day is used up (quota); `headers` say when to
    come back."""

    def __init__(self, message: str, slug: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.slug = slug
        self.headers = headers


# For problem_responses of a partner route.
PARTNER_PROBLEMS: dict[int, list[str]] = {
    401: ["partner-unauthorized"],
    403: ["scope-missing"],
    429: ["daily-quota-exceeded", "rate-limited"],
}


def rate_headers(taken: quotas.Take) -> dict[str, str]:
    """The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers, the separate-field form):
    Limit = the bucket's size, Remaining = whole tokens left, Reset = seconds until it is full again."""
    return {
        "RateLimit-Limit": str(taken.burst),
        "RateLimit-Remaining": str(taken.remaining),
        "RateLimit-Reset": str(math.ceil(taken.seconds_to_full)),
    }


def _refusal(taken: quotas.Take) -> QuotaExceeded:
    if taken.outcome == "rate":
        wait = max(1, math.ceil(taken.seconds_to_next_token))
        headers = rate_headers(taken) | {"RateLimit-Reset": str(wait), "Retry-After": str(wait)}
        return QuotaExceeded(
            f"rate limit: {taken.burst} requests at once, {taken.rate_per_second:g} a second; "
            f"retry in {wait} s",
            "rate-limited",
            headers,
        )
    wait = max(1, math.ceil(taken.seconds_to_next_day))
    headers = {
        "RateLimit-Limit": str(taken.daily_quota),
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": str(wait),
        "Retry-After": str(wait),
    }
    return QuotaExceeded(
        f"daily quota of {taken.daily_quota} requests used up; it renews at midnight China time",
        "daily-quota-exceeded",
        headers,
    )


async def _holder(request: Request, token: str) -> tuple[partners.KeyHolder, bytes]:
    services = services_of(request)
    key = token_key(token)
    holder = services.partner_keys.get(key)
    if holder is None:
        holder = await run_in_threadpool(partners.verify, services.engine, token, services.clock.now())
        if holder is None:
            raise PartnerUnauthorized("unknown, revoked or expired partner key")
        services.partner_keys.put(key, holder)
    return holder, key


def partner_with(scope: str) -> Callable[..., Awaitable[Partner]]:
    """The dependency of a partner route needing `scope` (one of access.partners.SCOPES)."""
    if scope not in partners.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def authenticated_partner(
        request: Request, given: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Partner:
        if given is None or not given.credentials:
            raise PartnerUnauthorized("a partner key is required: Authorization: Bearer <key_id>.<secret>")
        holder, key = await _holder(request, given.credentials.strip())
        services = services_of(request)
        taken = await run_in_threadpool(
            quotas.take, services.engine, holder.key_id, holder.account.partner_id, services.clock.now()
        )
        if taken.outcome == "revoked":
            services.partner_keys.drop(key)
            raise PartnerUnauthorized("unknown, revoked or expired partner key")
        if taken.outcome != "ok":
            raise _refusal(taken)
        setattr(request.state, STATE_KEY, rate_headers(taken))
        if scope not in holder.scopes:
            raise PartnerForbidden(f"this key lacks the scope {scope}")
        account = holder.account
        return Partner(
            account.partner_id, account.name, account.coord, account.language, holder.scopes, holder.key_id
        )

    authenticated_partner.__name__ = f"partner_with_{scope.replace(':', '_')}"
    return authenticated_partner
