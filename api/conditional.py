"""ETag / If-None-Match (RFC 9110 8.8.3, 13.1.2) for JSON answers that are a function of the state: a
weak ETag over the body without its volatile fields (the instant it was asked: `as_of`, the station's
local time), so two answers equal in everything a client uses share a tag and a repeat request is a 304
without a body. The route still computes the answer (the saving is the transfer, not the work)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi import Header, Request, Response

ETAG_HEADER = {
    "ETag": {"description": "weak validator of this answer's content", "schema": {"type": "string"}},
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "the copy named in If-None-Match is current (no body)", "headers": ETAG_HEADER}
}
IfNoneMatch = Header(
    alias="If-None-Match",
    max_length=2048,
    description="ETags of copies the client holds: 304 when the current answer's is among them",
)


def weak_etag(body: dict[str, Any], volatile: Iterable[tuple[str, ...]] = ()) -> str:
    """W/"<hash>" of `body` without the fields at these paths (each a tuple of keys)."""
    content = _without(body, [path for path in volatile if path])
    digest = hashlib.blake2b(orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str), digest_size=12)
    return f'W/"{digest.hexdigest()}"'


def _without(body: dict[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    if not paths:
        return body
    out = dict(body)
    for path in paths:
        if len(path) == 1:
            out.pop(path[0], None)
        elif isinstance(out.get(path[0]), dict):
            out[path[0]] = _without(out[path[0]], [path[1:]])
    return out


def matches(header: str | None, etag: str) -> bool:
    """Weak comparison: `W/"x"` and `"x"` match; `*` matches any current answer."""
    if not header:
        return False
    mine = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == mine for tag in header.split(","))


def revalidated(
    request: Request, response: Response, body: dict[str, Any], volatile: Iterable[tuple[str, ...]] = ()
) -> Response | None:
    """Sets the answer's ETag; a 304 to send instead when the client's copy is current, else None."""
    etag = weak_etag(body, volatile)
    response.headers["ETag"] = etag
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return None
