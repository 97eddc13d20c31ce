"""`python -m access.cli issue STATION_ID` / `revoke KEY_ID`: manage per-station API credentials.

Prints the token once (issue). Exit codes: 0 done, 1 nothing to revoke, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from access.credentials import issue, revoke
from db.engine import make_engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m access.cli", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("issue", help="new token for a station").add_argument("station_id", type=int)
    commands.add_parser("revoke", help="revoke a credential").add_argument("key_id")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    engine = make_engine(args.database_url, pool_size=1)
    try:
        if args.command == "issue":
            issued = issue(engine, args.station_id)
            print(issued.token)
            return 0
        return 0 if revoke(engine, args.key_id) else 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
