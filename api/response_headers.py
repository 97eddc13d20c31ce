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
LIVE = "public, max-age=5"  # lists and waits: live state that moves within seconds
REVALIDATE = "public, no-cache"  # keep, but ask each time: ETag, 304
# By exact path first (one dict lookup on the hot list routes), then the station's own sub-resources, then
# prefixes of someone's own data. A path matching none gets no Cache-Control from here.
EXACT = {
    "/v1/stations/nearby": LIVE,
    "/v1/stations": LIVE,
    "/v1/prices/compare": LIVE,
    "/v1/prices/stats": "public, max-age=60",
    "/v1/tiles.json": "public, max-age=300",
    "/healthz": "no-store",
    "/readyz": "no-store",
}
STATION_PARTS = re.compile(r"/v1/stations/[0-9]+(/prices|/occupancy|/wait)?")
BY_PART = {None: REVALIDATE, "/prices": REVALIDATE, "/occupancy": LIVE, "/wait": LIVE}
OWN_DATA = ("/v1/me", "/v1/checkout", "/v1/partner", "/v1/operator", "/v1/quotes")
CACHEABLE_STATUS = (200, 304)


def cache_control(scope: Scope, status: int) -> str | None:
    if scope["method"] not in ("GET", "HEAD") or status not in CACHEABLE_STATUS:
        return "no-store"
    path: str = scope["path"]
    value = EXACT.get(path)
    if value is None:
        if path.startswith("/v1/stations/"):
            found = STATION_PARTS.fullmatch(path)
            value = BY_PART[found.group(1)] if found else None
        elif path.startswith(OWN_DATA):
            return PRIVATE
    if value is not None and value.startswith("public"):
        for name, _ in scope["headers"]:
            if name == b"authorization":  # a driver's member prices, a station's or a partner's answer
                return PRIVATE
    return value


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
