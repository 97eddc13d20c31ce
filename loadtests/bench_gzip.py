"""What gzip costs per nearby answer, in process (no network, no database): the ASGI app that returns a
pre-rendered nearby answer (loadtests/payload.py, the service's shape) alone, behind Starlette's
GZipMiddleware, and behind api/compression.py's CompressWhenAsked (gzip, br, zstd), with and without
Accept-Encoding.

    python -m loadtests.bench_gzip --items 20 100 --rounds 3000

Reports µs per request (median of 5 runs) and the body size; the figures are CPU on a shared machine:
report `uptime` beside them."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.compression import LEVEL, MINIMUM_SIZE, CompressWhenAsked
from api.response_headers import ResponseHeaders
from loadtests.payload import nearby_answer_bytes


def endpoint(body: bytes) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def one(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> int:
    size = 0

    async def send(message: Message) -> None:
        nonlocal size
        if message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/v1/stations/nearby",
        "headers": headers,
    }
    await app(scope, _receive, send)
    return size


async def timed(app: ASGIApp, headers: list[tuple[bytes, bytes]], rounds: int) -> tuple[float, int]:
    runs = []
    size = 0
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            size = await one(app, headers)
        runs.append((time.perf_counter() - start) / rounds * 1e6)
    return statistics.median(runs), size


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    plain: list[tuple[bytes, bytes]] = [(b"host", b"t")]
    gzip = [*plain, (b"accept-encoding", b"gzip, deflate")]
    br = [*plain, (b"accept-encoding", b"gzip, deflate, br")]
    zstd = [*plain, (b"accept-encoding", b"gzip, deflate, br, zstd")]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for count in args.items:
        body = nearby_answer_bytes(count)
        bare = endpoint(body)
        cases: list[tuple[str, ASGIApp, list[tuple[bytes, bytes]]]] = [
            ("no middleware", bare, plain),
            ("ResponseHeaders (Cache-Control)", ResponseHeaders(bare), plain),
            ("GZipMiddleware(9), not asked", GZipMiddleware(bare), plain),
            ("CompressWhenAsked, not asked", CompressWhenAsked(bare), plain),
            ("GZipMiddleware(9), gzip", GZipMiddleware(bare), gzip),
            ("CompressWhenAsked(6), gzip", CompressWhenAsked(bare, MINIMUM_SIZE, 6), gzip),
            (f"CompressWhenAsked({LEVEL}, the service's), gzip", CompressWhenAsked(bare), gzip),
            ("CompressWhenAsked(4), br", CompressWhenAsked(bare, MINIMUM_SIZE, 4), br),
            (f"CompressWhenAsked({LEVEL}, the service's), br", CompressWhenAsked(bare), br),
            (f"CompressWhenAsked({LEVEL}, the service's), zstd", CompressWhenAsked(bare), zstd),
        ]
        print(f"\n{count} items, {len(body)} bytes")
        for name, app, headers in cases:
            micros, size = asyncio.run(timed(app, headers, args.rounds))
            print(f"  {name:44s} {micros:8.1f} µs/request  {size:7d} bytes")


if __name__ == "__main__":
    main()
