"""`stations-demo load`: put the SYNTHETIC demo network into a migrated catalogue database.

Exit status: 0 loaded (or nothing to do with --if-empty), 1 these synthetic stations are already there,
2 bad arguments, 3 database unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg2
from tqdm import tqdm

from db.engine import make_engine
from demodata.generator import DEFAULT_SEED, DEFAULT_STATIONS, SOURCE, generate
from demodata.guides import load_guides
from demodata.load import LoadCounts, Prices, load

SYNTHETIC_NOTICE = (
    f"SYNTHETIC demo data: invented stations (identifier source {SOURCE!r}), not real fuel stations."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stations-demo", description=SYNTHETIC_NOTICE)
    commands = parser.add_subparsers(dest="command", required=True)
    load_cmd = commands.add_parser("load", help="generate the synthetic network and COPY it into PostGIS")
    load_cmd.add_argument("--stations", type=int, default=DEFAULT_STATIONS, help="number of stations")
    load_cmd.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same network)"
    )
    load_cmd.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL URL (default: $DATABASE_URL)",
    )
    load_cmd.add_argument(
        "--no-prices",
        action="store_true",
        help="load stations only, without their synthetic pump/platform prices and the official guide "
        "prices (demodata/guide_prices)",
    )
    mode = load_cmd.add_mutually_exclusive_group()
    mode.add_argument(
        "--if-empty", action="store_true", help="do nothing when the catalogue already has stations"
    )
    mode.add_argument(
        "--replace",
        action="store_true",
        help="empty the catalogue first, in the same transaction (TRUNCATE ... CASCADE: rows "
        "referencing stations, such as station prices, go too)",
    )
    return parser


def _summary(counts: LoadCounts, seed: int, elapsed: float) -> str:
    total = max(counts.stations, 1)
    split = ", ".join(
        f"{brand} {n / total:.1%}"
        for brand, n in sorted(counts.brands.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    return (
        f"Loaded SYNTHETIC demo network (seed {seed}): {counts.stations} stations, "
        f"{counts.positions} fueling positions, {counts.nozzles} nozzles, "
        f"{counts.prices} synthetic prices in {elapsed:.1f} s\nBrands: {split}"
    )


def _guides(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        summary = load_guides(engine)
    finally:
        engine.dispose()
    return f"Official guide prices (2026-04-21, demodata/guide_prices): {summary.line()}"


def _scalar(cur: Any) -> Any:
    row = cur.fetchone()
    return None if row is None else row[0]


def _load(args: argparse.Namespace) -> int:
    if not args.database_url:
        print("stations-demo: no database: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2
    if args.stations < 0:
        print("stations-demo: --stations must not be negative", file=sys.stderr)
        return 2
    print(SYNTHETIC_NOTICE)
    try:
        conn = psycopg2.connect(args.database_url)
    except psycopg2.OperationalError as exc:
        print(f"stations-demo: cannot connect to the database: {exc}".rstrip(), file=sys.stderr)
        return 3
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('stations') IS NOT NULL")
            if not _scalar(cur):
                print(
                    "stations-demo: the database has no stations table; migrate it first: "
                    "DATABASE_URL=... alembic upgrade head",
                    file=sys.stderr,
                )
                return 3
            cur.execute("SELECT EXISTS (SELECT 1 FROM stations)")
            has_rows = bool(_scalar(cur))
        conn.rollback()
        if has_rows and args.if_empty:
            print("The stations table already has rows; --if-empty: nothing loaded.")
            return 0
        started = time.perf_counter()
        with tqdm(total=args.stations, unit="station", file=sys.stderr, desc="synthetic demo") as bar:
            prices = None if args.no_prices else Prices(args.seed, datetime.now(UTC))
            counts = load(
                conn,
                generate(args.stations, args.seed),
                replace=args.replace,
                progress=bar.update,
                prices=prices,
            )
        print(_summary(counts, args.seed, time.perf_counter() - started))
        if not args.no_prices:
            print(_guides(args.database_url))
        return 0
    except psycopg2.errors.UniqueViolation as exc:
        print(
            f"stations-demo: these synthetic stations are already loaded ({exc.diag.message_primary}); "
            "nothing was loaded: use --replace or --if-empty",
            file=sys.stderr,
        )
        return 1
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "load":
        return _load(args)
    return 2  # unreachable: argparse requires a known command


if __name__ == "__main__":
    sys.exit(main())
