"""What one partner snapshot costs the process that streams it: wall time, this process's CPU seconds
(an API worker's share: everything but PostgreSQL's), PostgreSQL's backend CPU, lines and bytes, plain
and gzipped as the route sends them (api/partner_gzip.py).

    python -m loadtests.bench_snapshot --database-url postgresql://stations@127.0.0.1:55432/bench_120k \
        --coord gcj02 --out /tmp/snapshot.ndjson

`--out` keeps the lines (plain), e.g. to compare two versions of the code station for station. Report
`uptime` beside the figures (the machine is shared)."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from api.partner_gzip import gzip_stream
from db.engine import make_engine
from geo.coords import CoordSystem
from partners.snapshot import snapshot_lines

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--coord", choices=[c.value for c in CoordSystem], default="gcj02")
    parser.add_argument("--partner-id", type=int, default=0, help="whose POI ids (0: nobody's)")
    parser.add_argument("--gzip", action="store_true", help="compress as the route does when asked")
    parser.add_argument("--out", type=Path, help="write the plain lines here")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    engine = make_engine(args.database_url, pool_size=1)
    with engine.connect() as conn:
        backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    pg_before = _backend_cpu_s(backend)
    out = args.out.open("wb") if args.out else None
    seen = {"lines": 0, "bytes": 0}

    def plain(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            before = seen["lines"]
            seen["lines"] += chunk.count(b"\n")
            seen["bytes"] += len(chunk)
            if out is not None:
                out.write(chunk)
            if seen["lines"] // 20_000 > before // 20_000:
                print(f"  {seen['lines']:,} lines", flush=True)
            yield chunk

    sent = 0
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = plain(snapshot_lines(engine, args.partner_id, CoordSystem(args.coord), datetime.now(UTC)))
    for chunk in gzip_stream(chunks) if args.gzip else chunks:
        sent += len(chunk)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if out is not None:
        out.close()
    pg = _backend_cpu_s(backend) - pg_before
    engine.dispose()
    print(
        f"snapshot ({args.coord}{', gzip' if args.gzip else ''}): {seen['lines']:,} lines, "
        f"{seen['bytes'] / 1e6:,.1f} MB plain, {sent / 1e6:,.1f} MB sent; wall {wall:.2f} s, "
        f"this process's CPU {cpu:.2f} s, PostgreSQL backend CPU {pg:.2f} s"
    )


if __name__ == "__main__":
    main()
