"""`python -m serving APP --workers N ...`: the service's uvicorn workers, one SO_REUSEPORT socket each."""

from __future__ import annotations

import argparse
import sys

from uvicorn.config import Config

from serving.supervisor import Supervisor


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m serving", description=__doc__)
    parser.add_argument("app", help="the ASGI app as module:attribute")
    parser.add_argument("--factory", action="store_true", help="the attribute is a factory returning the app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (logged)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="auto", help="uvicorn's event loop (auto, asyncio, uvloop)")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP protocol (or module:Class)")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--timeout-keep-alive", type=int, default=5, help="idle connection, s")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    config = Config(
        args.app,
        factory=args.factory,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop=args.loop,
        http=args.http,
        log_level=args.log_level,
        access_log=not args.no_access_log,
        timeout_keep_alive=args.timeout_keep_alive,
    )
    return Supervisor(config, args.workers).run()


if __name__ == "__main__":
    sys.exit(main())
