"""`stations-ingest stations --format FMT PATH`: load a station file into the catalogue.

Also `stations-ingest prices ...` and `stations-ingest price-zones` (ingest/prices/cli.py).

Exit codes: 0 it ran (rejected rows are normal and listed in the rejects file), 2 bad arguments or an
unreadable input file, 3 database unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from db.engine import make_engine
from ingest.adapters import ADAPTERS
from ingest.items import Item, SourceError
from ingest.pipeline import run
from ingest.prices import cli as prices_cli
from ingest.writer import Writer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stations-ingest", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    stations = commands.add_parser("stations", help="ingest a station file")
    stations.add_argument("--format", required=True, choices=sorted(ADAPTERS))
    stations.add_argument("path", type=Path)
    stations.add_argument("--rejects", type=Path, help="rejects CSV (default ./<file>.rejects.csv)")
    stations.add_argument("--link-within-m", type=float, default=0.0, metavar="M")
    stations.add_argument("--batch-size", type=int, default=500)
    stations.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    prices_cli.add_parsers(commands)
    return parser


def _progress(items: Iterator[Item]) -> Iterator[Item]:
    with tqdm(items, unit=" rows", file=sys.stderr, mininterval=0.5) as bar:
        yield from bar


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "stations":
        return prices_cli.main(parser, args)
    if not args.path.exists():
        parser.error(f"{args.path}: no such file")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.link_within_m < 0:
        parser.error("--link-within-m must not be negative")
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    engine = make_engine(args.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT content_hash FROM station_identifiers LIMIT 0"))
    except SQLAlchemyError as exc:
        print(
            f"stations-ingest: database unreachable or not migrated: {exc.__class__.__name__}: "
            f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip().splitlines()[0]}",
            file=sys.stderr,
        )
        return 3
    name = args.path.name if args.path.is_file() else args.path.resolve().name
    rejects = args.rejects or Path(f"{name}.rejects.csv")
    writer = Writer(engine, link_within_m=args.link_within_m)
    try:
        summary = run(
            _progress(ADAPTERS[args.format](args.path)), writer, rejects, batch_size=args.batch_size
        )
    except (SourceError, OSError, UnicodeDecodeError) as exc:
        print(f"stations-ingest: cannot read {args.path}: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(summary.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
