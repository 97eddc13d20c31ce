"""`python -m changelog`: prune the change log (`prune --keep-days 7`) or show where it stands (`status`).

Exit status: 0 done, 2 bad arguments, 3 database unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from changelog.reader import head
from changelog.retention import Pruned, prune
from db.engine import make_engine

_STATUS = text(
    "SELECT c.seq, c.pruned_through, c.pruned_at, (SELECT min(committed_at) FROM change_tx), "
    "(SELECT count(*) FROM change_log) FROM change_counter c"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m changelog", description=__doc__)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prune_cmd = commands.add_parser("prune", help="delete transactions older than the retention")
    prune_cmd.add_argument("--keep-days", type=float, required=True, help="retention in days")
    prune_cmd.add_argument("--batch", type=int, default=1000, help="transactions per delete")
    commands.add_parser("status", help="head, pruned-through, oldest retained commit, row count")
    return parser


def _progress(done: Pruned) -> None:
    print(
        f"  pruned {done.transactions} transactions, {done.changes} changes (through seq "
        f"{done.pruned_through})",
        file=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.database_url:
        print("changelog: no database: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2
    if args.command == "prune" and (args.keep_days < 0 or args.batch < 1):
        print("changelog: --keep-days must not be negative, --batch must be at least 1", file=sys.stderr)
        return 2
    engine = make_engine(args.database_url, pool_size=1)
    try:
        if args.command == "status":
            with engine.connect() as conn:
                seq, through, pruned_at, oldest, rows = conn.execute(_STATUS).one()
            print(
                f"head seq {seq}; pruned through {through} (at {pruned_at or 'never'}); "
                f"oldest retained commit {oldest or '-'}; {rows} changes held"
            )
            return 0
        now = datetime.now(UTC)
        keep = timedelta(days=args.keep_days)
        print(f"Pruning change-log transactions committed before {now - keep:%Y-%m-%d %H:%M:%S %Z}")
        done = prune(engine, keep, now, batch=args.batch, progress=_progress)
        with engine.connect() as conn:
            latest = head(conn)
        print(
            f"Pruned {done.transactions} transactions ({done.changes} changes); pruned through seq "
            f"{done.pruned_through}, head seq {latest}"
        )
        return 0
    except DBAPIError as exc:
        print(f"changelog: database error: {exc.orig}".rstrip(), file=sys.stderr)
        return 3
    finally:
        engine.dispose()
