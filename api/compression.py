"""gzip when the client asks (Accept-Encoding: gzip), by Starlette's GZipMiddleware; every other request
goes straight to the app without passing through it (loadtests/bench_gzip.py measured what the pass-through
costs). Bodies under `minimum_size` bytes are sent as they are (a short answer gains nothing), as are
answers that already carry a Content-Encoding and media types that are compressed already.

Level 1, not Starlette's 9: on a 100-item nearby answer (27 KB) level 1 gives 4.3 KB in 101 µs against
374 µs at level 9 (3.2 KB) and 222 µs at level 6 (3.4 KB); the service is CPU-bound, the saving
beyond level 1 is a kilobyte (loadtests/bench_gzip.py). br: not offered (no maintained ASGI Brotli
middleware in the lock)."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_SIZE = 1024
LEVEL = 1


def asks_for_gzip(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return b"gzip" in value.lower()
    return False


class GzipWhenAsked:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = LEVEL) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=level)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and asks_for_gzip(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
