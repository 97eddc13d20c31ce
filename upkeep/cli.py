"""`python -m upkeep run-once`: one upkeep round now (the same as the API's periodic one), each step printed
as it ends, then a summary. Retentions default as in the service's settings (api/settings.py).

Exit status: 0 every step done, 1 a step failed (the others ran), 2 bad arguments, 3 database unreachable,
75 another process is running a round (nothing done; try again).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError

from db.engine import make_engine
from upkeep.rounds import StepResult, UpkeepPolicy, run_round

EX_TEMPFAIL = 75


def _parser() -> argparse.ArgumentParser:
    defaults = UpkeepPolicy()
    parser = argparse.ArgumentParser(prog="python -m upkeep", description=__doc__)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    once = commands.add_parser("run-once", help="one round: partitions, outboxes, change log")
    days = [
        ("--occupancy-retention-days", defaults.occupancy_retention, "occupancy events, reports, claims"),
        ("--outbox-retention-days", defaults.outbox_retention, "the order core's delivered outbox events"),
        ("--ordercore-events-retention-days", defaults.ordercore_events_retention, "applied callbacks"),
        ("--change-log-retention-days", defaults.change_log_retention, "the change log"),
    ]
    for flag, default, what in days:
        once.add_argument(flag, type=float, default=default / timedelta(days=1), help=f"{what} (days)")
    once.add_argument("--ahead-days", type=int, default=defaults.partitions_ahead_days)
    once.add_argument(
        "--now", type=_instant, default=None, help="the round's time (RFC 3339 with offset; default: now)"
    )
    return parser


def _instant(value: str) -> datetime:
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} has no UTC offset")
    return instant.astimezone(UTC)


def _print_step(step: StepResult) -> None:
    status = f"FAILED: {step.error}" if step.error else ", ".join(f"{k}={v}" for k, v in step.counts.items())
    print(f"  {step.name} ({step.seconds:.2f}s): {status}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.database_url:
        print("upkeep: no database: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2
    if (
        args.occupancy_retention_days < 1
        or args.ahead_days < 0
        or min(
            args.outbox_retention_days, args.ordercore_events_retention_days, args.change_log_retention_days
        )
        < 0
    ):
        print("upkeep: retentions must not be negative (occupancy at least 1 day)", file=sys.stderr)
        return 2
    policy = UpkeepPolicy(
        occupancy_retention=timedelta(days=args.occupancy_retention_days),
        partitions_ahead_days=args.ahead_days,
        outbox_retention=timedelta(days=args.outbox_retention_days),
        ordercore_events_retention=timedelta(days=args.ordercore_events_retention_days),
        change_log_retention=timedelta(days=args.change_log_retention_days),
    )
    engine = make_engine(args.database_url, pool_size=2)
    now: datetime = args.now or datetime.now(UTC)
    try:
        print(f"Upkeep round at {now:%Y-%m-%d %H:%M:%S %Z}", file=sys.stderr)
        report = run_round(engine, policy, now, on_step=_print_step)
    except DBAPIError as exc:
        print(f"upkeep: database error: {exc.orig}".rstrip(), file=sys.stderr)
        return 3
    finally:
        engine.dispose()
    if not report.ran:
        print("upkeep: another process is running a round; nothing done", file=sys.stderr)
        return EX_TEMPFAIL
    done = len(report.steps) - len(report.failed)
    failed = f"; failed: {', '.join(report.failed)}" if report.failed else ""
    print(f"Upkeep: {done} of {len(report.steps)} steps done{failed}")
    return 1 if report.failed else 0
