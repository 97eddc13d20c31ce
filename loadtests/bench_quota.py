"""What the partner quota costs per request: `partner_take` (one round trip, UNLOGGED bucket, usage row
with synchronous_commit off) beside a plain `SELECT 1` round trip and beside the same take with
synchronous_commit left on, serially and from several threads (one key: its bucket row is a hot spot;
a key each: no contention).

    DATABASE_URL=postgresql://...  python -m loadtests.bench_quota --calls 2000 --threads 1 4

The database must be migrated (alembic upgrade head); the script creates its own partners and removes
them. Report `uptime` beside the figures (the machine is shared)."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import Engine, text

from access import partners, quotas
from db.engine import make_engine

PREFIX = "bench-quota-"


def _partner(engine: Engine, name: str) -> tuple[int, str]:
    account = partners.create_partner(
        engine, PREFIX + name, rate_per_second=1e9, burst=1_000_000_000, daily_quota=None
    )
    return account.partner_id, partners.create_key(engine, account.partner_id, ["stations:read"]).key_id


def _per_call(fn: Callable[[], object], calls: int, threads: int) -> tuple[float, float]:
    """(µs per call as one client sees it: median latency, calls per second in total)."""
    latencies: list[float] = []

    def run(_: int) -> None:
        for _ in range(calls // threads):
            start = time.perf_counter()
            fn()
            latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(run, range(threads)))
    elapsed = time.perf_counter() - began
    return statistics.median(latencies) * 1e6, len(latencies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    engine = make_engine(args.database_url, pool_size=max(args.threads) + 1)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM partners WHERE name LIKE :p"), {"p": PREFIX + "%"})
    shared = _partner(engine, "shared")
    own = [_partner(engine, f"own-{i}") for i in range(max(args.threads))]
    owners = iter(own * (args.calls + 1))
    now = datetime.now(UTC)

    def select_one() -> None:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))

    def take_shared() -> None:
        assert quotas.take(engine, shared[1], shared[0], now).outcome == "ok"

    def take_own() -> None:
        pid, key = next(owners)
        assert quotas.take(engine, key, pid, now).outcome == "ok"

    def take_synchronous() -> None:  # the same statement, then the commit waits for the WAL flush
        with engine.begin() as conn:
            conn.execute(
                text("SELECT outcome FROM partner_take(:k, :p, :now, :day)"),
                {"k": shared[1], "p": shared[0], "now": now, "day": quotas.china_day(now)},
            )
            conn.execute(text("SET LOCAL synchronous_commit = on"))

    with engine.connect() as conn:
        setting = conn.execute(text("SHOW synchronous_commit")).scalar_one()
        fsync = conn.execute(text("SHOW fsync")).scalar_one()
    load = os.getloadavg()
    print(f"server synchronous_commit={setting} fsync={fsync}")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for threads in args.threads:
        for name, fn in (
            ("SELECT 1 (round-trip floor)", select_one),
            ("partner_take, one key", take_shared),
            ("partner_take, a key per thread", take_own),
            ("partner_take, synchronous commit", take_synchronous),
        ):
            micros, rate = _per_call(fn, args.calls, threads)
            print(f"  {threads} thread(s)  {name:34s} median {micros:7.0f} µs   {rate:7.0f} calls/s")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM partners WHERE name LIKE :p"), {"p": PREFIX + "%"})
        conn.execute(
            text("DELETE FROM partner_buckets WHERE key_id NOT IN (SELECT key_id FROM partner_keys)")
        )
    engine.dispose()


if __name__ == "__main__":
    main()
