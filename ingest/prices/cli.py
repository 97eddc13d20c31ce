"""`stations-ingest prices --format cn-official|cn-history|fr|it PATH` and `stations-ingest price-zones`.

Same exit codes as station ingest: 0 it ran, 2 bad arguments or unreadable input, 3 database unreachable
or not migrated (to 0003).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from db.engine import make_engine
from ingest.items import SourceError
from ingest.prices.items import PriceItem
from ingest.prices.pipeline import ADAPTERS, run
from pricing.zones import assign_zones


def add_parsers(commands: Any) -> None:
    prices = commands.add_parser("prices", help="ingest a price file")
    prices.add_argument("--format", required=True, choices=sorted(ADAPTERS))
    prices.add_argument("path", type=Path)
    prices.add_argument("--rejects", type=Path, help="rejects CSV (default ./<file>.rejects.csv)")
    prices.add_argument("--batch-size", type=int, default=500)
    prices.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    zones = commands.add_parser("price-zones", help="resolve every station's price zone")
    zones.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))


def _progress(items: Iterator[PriceItem]) -> Iterator[PriceItem]:
    with tqdm(items, unit=" items", file=sys.stderr, mininterval=0.5) as bar:
        yield from bar


def _connect(url: str) -> Engine | None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM station_prices LIMIT 0"))
    except SQLAlchemyError as exc:
        first = str(exc.orig if hasattr(exc, "orig") else exc).strip().splitlines()[0]
        print(
            f"stations-ingest: database unreachable or not migrated: {exc.__class__.__name__}: {first}",
            file=sys.stderr,
        )
        engine.dispose()
        return None
    return engine


def main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    if args.command == "prices":
        if not args.path.exists():
            parser.error(f"{args.path}: no such file")
        if args.batch_size < 1:
            parser.error("--batch-size must be at least 1")
    engine = _connect(args.database_url)
    if engine is None:
        return 3
    try:
        if args.command == "price-zones":
            summary = assign_zones(engine)
            for station_id, reason in summary.unresolved:
                print(f"station {station_id}: {reason}", file=sys.stderr)
            print(summary.line())
            return 0
        name = args.path.name if args.path.is_file() else args.path.resolve().name
        rejects = args.rejects or Path(f"{name}.rejects.csv")
        try:
            result = run(
                _progress(ADAPTERS[args.format](args.path, engine)),
                engine,
                rejects,
                batch_size=args.batch_size,
            )
        except (SourceError, OSError, UnicodeDecodeError) as exc:
            print(f"stations-ingest: cannot read {args.path}: {exc}", file=sys.stderr)
            return 2
        print(result.line())
        return 0
    finally:
        engine.dispose()
