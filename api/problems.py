"""The one Problem schema (RFC 9457) and the documented problem responses of each route.

`problem_responses` is what a route declares: for each status, the problem types (slugs) it can answer.
Every route also answers the refusals httpguard/ applies to any request before routing: a request target
over the limit (414), too many or too large header fields (431), text that cannot be stored (400
invalid-parameter), a query parameter the route does not take (400 unknown-parameter), and, on routes that
take a body, a body over the limit (413) or nested too deep (400).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"


class ProblemItem(BaseModel):
    """One parameter or body field that was refused."""

    model_config = ConfigDict(populate_by_name=True)
    in_: str = Field(alias="in", description="query, path, header, body or request")
    name: str = Field(description="the parameter or the dotted body field; empty: the whole body")
    message: str


class CouponState(BaseModel):
    id: str
    state: str = Field(description="why this coupon cannot be used now: used, reserved, expired ...")


class Problem(BaseModel):
    """An error (RFC 9457 problem details), `application/problem+json`."""

    type: str = Field(description="/problems/<slug>; the slugs each operation can answer are listed on it")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(default=None, description="the request path")
    errors: list[ProblemItem] | None = Field(
        default=None, description="invalid-parameter: each refused parameter or field"
    )
    reasons: list[str] | None = Field(default=None, description="not-ready: why")
    coupons: list[CouponState] | None = Field(default=None, description="coupons-unavailable: each coupon")
    attempts: int | None = Field(default=None, description="order-core-unavailable: calls made")
    breaker: str | None = Field(default=None, description="order-core-unavailable: open | closed")
    retry_after_seconds: float | None = Field(default=None, description="order-core-unavailable")
    upstream: dict[str, Any] | None = Field(
        default=None, description="order-core-rejected, order-core-conflict: the order core's problem"
    )


TITLES = {
    400: "Invalid request",
    401: "Credential missing or wrong",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    414: "URI too long",
    422: "Understood but cannot be done",
    429: "Too many requests (Retry-After)",
    431: "Request header fields too large",
    502: "The order core refused",
    503: "Unavailable (Retry-After)",
}
ANY_REQUEST: Mapping[int, tuple[str, ...]] = {
    400: ("invalid-parameter", "unknown-parameter"),
    414: ("uri-too-long",),
    431: ("headers-too-large",),
}
WITH_BODY: Mapping[int, tuple[str, ...]] = {413: ("body-too-large",)}
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "required": True,
        "schema": {"type": "string", "pattern": r"^[0-9]+$"},
    }
}


RATE_LIMIT = {
    name: {"description": text, "required": True, "schema": {"type": "string", "pattern": r"^[0-9]+$"}}
    for name, text in (
        ("RateLimit-Limit", "the key's bucket size (429 daily-quota-exceeded: the daily quota)"),
        ("RateLimit-Remaining", "requests left now"),
        ("RateLimit-Reset", "seconds until the bucket is full again (429: until a request is allowed)"),
    )
}


def problem_schema(slugs: Iterable[str]) -> dict[str, Any]:
    """The Problem schema with `type` restricted to these slugs."""
    types = sorted({f"/problems/{slug}" for slug in slugs})
    return {
        "allOf": [
            {"$ref": PROBLEM_REF},
            {"type": "object", "properties": {"type": {"type": "string", "enum": types}}},
        ]
    }


def problem_responses(
    by_status: Mapping[int, Iterable[str]] | None = None, *, body: bool = False
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status with the problem types it can answer, plus the refusals
    any request can get (and those of a body when the route reads one)."""
    merged: dict[int, set[str]] = {}
    for extra in (ANY_REQUEST, WITH_BODY if body else {}, by_status or {}):
        for status, slugs in extra.items():
            merged.setdefault(status, set()).update(slugs)
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(merged):
        slugs = sorted(merged[status])
        response: dict[str, Any] = {
            "description": f"{TITLES.get(status, 'Problem')}: " + ", ".join(slugs),
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": problem_schema(slugs),
                    "example": _example(status, slugs[0]),
                }
            },
        }
        if status == 503:
            response["headers"] = RETRY_AFTER
        if status == 429:
            response["headers"] = RETRY_AFTER | RATE_LIMIT
        responses[status] = response
    return responses


def _example(status: int, slug: str) -> dict[str, Any]:
    return {
        "type": f"/problems/{slug}",
        "title": TITLES.get(status, "Problem"),
        "status": status,
        "detail": f"{slug.replace('-', ' ')}",
        "instance": "/v1/...",
    }


def merge(*parts: Mapping[int, Iterable[str]]) -> dict[int, tuple[str, ...]]:
    """Several {status: slugs} tables as one."""
    out: dict[int, set[str]] = {}
    for part in parts:
        for status, slugs in part.items():
            out.setdefault(status, set()).update(slugs)
    return {status: tuple(sorted(slugs)) for status, slugs in out.items()}
