"""Header fields added to answers in one pass over the response start (a pure ASGI wrapper, no body
buffering, so streams stay streams):

- Cache-Control, when the route set none: by path (CACHE_RULES) for a GET or HEAD answered 200 or 304
  without an Authorization header; `private, no-store` when the request carried one (a driver's member
  prices, a partner's answer, a station's data: never in a shared cache); `no-store` for every other
  method and every error.
- the RateLimit fields a partner route's dependency left in the request state (api/auth_partner.py).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth_partner import STATE_KEY

PRIVATE = "private, no-store"
# First match wins; a path matching none gets no Cache-Control from here.
CACHE_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), value)
    for pattern, value in (
        (r"^/v1/(me|checkout|partner|operator)(/|$)", PRIVATE),  # someone's own data
        (r"^/v1/quotes", PRIVATE),
        (r"^/(healthz|readyz)$", "no-store"),
        (r"^/v1/stations/[0-9]+/(occupancy|wait)$", "public, max-age=5"),  # live; moves by the minute
        (r"^/v1/stations/[0-9]+/prices$", "public, no-cache"),  # revalidate: ETag, 304
        (r"^/v1/stations/[0-9]+$", "public, no-cache"),  # revalidate: ETag, 304
        (
            r"^/v1/(stations|stations/nearby|route/stations|prices/compare|prices/effective)$",
            "public, max-age=5",
        ),
        (r"^/v1/prices/stats$", "public, max-age=60"),
        (r"^/v1/tiles\.json$", "public, max-age=300"),
    )
)
CACHEABLE_STATUS = (200, 304)


def cache_control(scope: Scope, status: int) -> str | None:
    if scope["method"] not in ("GET", "HEAD") or status not in CACHEABLE_STATUS:
        return "no-store"
    path = scope["path"]
    for pattern, value in CACHE_RULES:
        if pattern.match(path):
            if value.startswith("public") and any(name == b"authorization" for name, _ in scope["headers"]):
                return PRIVATE
            return value
    return None


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                have = {name.lower() for name, _ in headers}
                if b"cache-control" not in have:
                    value = cache_control(scope, message["status"])
                    if value is not None:
                        headers.append((b"cache-control", value.encode()))
                extra = scope.get("state", {}).get(STATE_KEY)
                if extra:
                    headers += [
                        (n.lower().encode(), v.encode())
                        for n, v in extra.items()
                        if n.lower().encode() not in have
                    ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, sending)
