"""`python -m ordercore migrate` (its schema, its own Alembic environment) | `python -m ordercore serve`."""

from __future__ import annotations

import argparse
import logging
import sys

from ordercore.settings import OrdercoreSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ordercore", description="Reference order core")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the ordercore schema to the latest migration")
    serve = sub.add_parser("serve", help="serve the order core (uvicorn, one worker)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    settings = OrdercoreSettings()

    if args.command == "migrate":
        from ordercore.migrate import upgrade

        logging.basicConfig(level=logging.INFO, format="%(message)s")
        upgrade(settings.dsn())
        print("ordercore schema migrated to head", file=sys.stderr)
        return 0

    import uvicorn

    from httpguard.protocol import BoundedHttpToolsProtocol
    from ordercore.app import create_app
    from ordercore.settings import UnsafeSettings

    try:
        app = create_app(settings)
    except UnsafeSettings as exc:
        print(f"python -m ordercore serve: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level="info",
        http=BoundedHttpToolsProtocol,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
