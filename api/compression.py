"""Compression when the client asks (Accept-Encoding: zstd, br or gzip), by starlette-compress's
CompressMiddleware (server order zstd > br > gzip among the encodings the client accepts); every other
request goes straight to the app without passing through it (loadtests/bench_gzip.py measured what the
pass-through costs). Bodies under `minimum_size` bytes are sent as they are (a short answer gains
nothing), as are answers that already carry a Content-Encoding (the partner routes gzip their own
pages and streams) and media types that are compressed already.

Fast levels, not the library's 4: the service is CPU-bound. On a 100-item nearby answer (27 KB), in
process (`python -m loadtests.bench_gzip --items 20 100 --rounds 1000`, load 1.1): gzip level 1 gives
4.3 KB in 80 µs (Starlette's level 9: 3.2 KB in 312 µs), brotli quality 1 4.1 KB in 57 µs (quality 4:
3.2 KB in 143 µs), zstd level 1 3.4 KB in 55 µs; not asked, the pass-through costs 0.7 µs."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette_compress import CompressMiddleware, add_compress_type

MINIMUM_SIZE = 1024
LEVEL = 1  # gzip level, brotli quality and zstd level alike
ENCODINGS = (b"gzip", b"br", b"zstd")

add_compress_type("application/x-ndjson", streaming=True)  # the partner snapshot, when br/zstd is asked
add_compress_type("application/problem+json")


def asks_for_compression(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            lowered = value.lower()
            return any(e in lowered for e in ENCODINGS)
    return False


class CompressWhenAsked:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE, level: int = LEVEL) -> None:
        self.app = app
        self.compress = CompressMiddleware(
            app,
            minimum_size=minimum_size,
            zstd_level=level,
            brotli_quality=level,
            gzip_level=level,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and asks_for_compression(scope):
            await self.compress(scope, receive, send)
        else:
            await self.app(scope, receive, send)
