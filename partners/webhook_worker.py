"""`python -m partners.webhook_worker`: the webhook delivery worker, one process beside the API (bin/run).

It follows the change log from its own stored cursor (table webhook_cursor), enqueues a delivery for each
price change a subscription wants (partners/price_events.py) and delivers them (partners/delivery.py).
LISTEN change_log wakes it; a tick (--every, 1 s) catches a lost notification and retries due deliveries.
Progress goes to stderr every --report seconds; SIGTERM or SIGINT ends it with a summary.

Exit status: 0 stopped by a signal, 2 bad arguments, 3 database unreachable or not migrated.
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from changelog import CHANNEL
from db.engine import make_engine
from partners.delivery import Policy, deliver_round
from partners.price_events import enqueue_step
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)


@dataclass
class Totals:
    changes: int = 0
    events: int = 0
    enqueued: int = 0
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    disabled: int = 0
    resyncs: int = 0

    def line(self) -> str:
        return (
            f"{self.changes} changes read, {self.events} price events, {self.enqueued} deliveries enqueued, "
            f"{self.attempted} attempts ({self.delivered} delivered, {self.failed} failed), "
            f"{self.disabled} subscriptions disabled, {self.resyncs} resyncs"
        )


def catch_up(engine: Engine, clock: Clock, totals: Totals, max_pages: int = 50) -> bool:
    """Enqueue from the stored cursor until the log is read (or max_pages); True when caught up."""
    for _ in range(max_pages):
        with engine.begin() as conn:
            done = enqueue_step(conn, clock.now())
        totals.changes += done.changes
        totals.events += done.events
        totals.enqueued += done.deliveries
        totals.resyncs += int(done.resynced)
        if done.resynced:
            log.warning("webhooks: the worker's cursor was pruned; following from the head (events lost)")
        if done.changes == 0:
            return True
    return False


def run_once(engine: Engine, clock: Clock, policy: Policy, client: httpx.Client, totals: Totals) -> None:
    catch_up(engine, clock, totals)
    while True:
        r = deliver_round(engine, clock.now(), policy, client)
        totals.attempted += r.attempted
        totals.delivered += r.delivered
        totals.failed += r.failed
        totals.disabled += r.disabled
        if r.attempted < policy.batch:
            return


def _listen(engine: Engine) -> Any:
    raw = engine.raw_connection()
    dbapi: Any = raw.driver_connection
    dbapi.autocommit = True
    with dbapi.cursor() as cur:
        cur.execute(f"LISTEN {CHANNEL}")
    return raw


def serve(engine: Engine, clock: Clock, policy: Policy, every_s: float, report_s: float) -> Totals:
    totals = Totals()
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    raw = _listen(engine)
    dbapi: Any = raw.driver_connection
    last_report = time.monotonic()
    with httpx.Client(timeout=policy.timeout_s, follow_redirects=False) as client:
        try:
            while not stopping:
                try:
                    run_once(engine, clock, policy, client, totals)
                except DBAPIError:
                    log.exception("webhooks: a round failed; trying again")
                if time.monotonic() - last_report >= report_s:
                    print(f"webhooks: {totals.line()}", file=sys.stderr, flush=True)
                    last_report = time.monotonic()
                ready, _, _ = select.select([dbapi], [], [], every_s)
                if ready:
                    dbapi.poll()
                    dbapi.notifies.clear()
        finally:
            raw.close()
    return totals


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m partners.webhook_worker", description=__doc__)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL"
    )
    parser.add_argument("--every", type=float, default=1.0, help="seconds between ticks without a wake")
    parser.add_argument("--report", type=float, default=60.0, help="seconds between progress lines")
    parser.add_argument("--max-failures", type=int, default=Policy.max_failures)
    parser.add_argument("--base-backoff", type=float, default=Policy.base_backoff_s, help="seconds")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.database_url:
        print("webhooks: no database: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2
    if args.every <= 0 or args.report <= 0 or args.max_failures < 1 or args.base_backoff <= 0:
        print(
            "webhooks: --every, --report, --base-backoff must be positive, --max-failures >= 1",
            file=sys.stderr,
        )
        return 2
    policy = Policy(base_backoff_s=args.base_backoff, max_failures=args.max_failures)
    engine = make_engine(args.database_url, pool_size=2)
    print("webhooks: delivering price-change webhooks (SIGTERM stops)", file=sys.stderr, flush=True)
    try:
        totals = serve(engine, SystemClock(), policy, args.every, args.report)
    except DBAPIError as exc:
        print(f"webhooks: database error: {exc.orig}".rstrip(), file=sys.stderr)
        return 3
    finally:
        engine.dispose()
    print(f"webhooks: stopped; {totals.line()}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
