"""Adds the rate-limit header fields a partner route's dependency left in the request state
(api/auth_partner.py) to the response, whatever kind the route returns (JSON, a stream). A request
without them (every public route) passes through untouched."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth_partner import STATE_KEY

PARTNER_PREFIX = "/v1/partner"  # every partner route; the others pass straight through


class RateLimitHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PARTNER_PREFIX):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(STATE_KEY)
                if extra:
                    have = {name.lower() for name, _ in message.get("headers", [])}
                    added = [
                        (name.lower().encode(), value.encode())
                        for name, value in extra.items()
                        if name.lower().encode() not in have
                    ]
                    message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, sending)
