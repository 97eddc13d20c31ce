"""Render one partner snapshot into a gzip file, in a process of its own: `python -m partners.snapshot_render
--partner-id N --coord gcj02 --now ISO --out PATH --max-age-seconds S` (DATABASE_URL from the environment, not
the command line, so no password shows in a process list).

An API worker that streamed the national snapshot itself held its interpreter for the whole read (1,000,000
stations: 35 s, every other request on that worker queued behind it); this process takes that work, the
worker only sends the finished file. The file is written beside PATH and renamed over it when complete, so a
reader never sees half a snapshot. An exclusive lock on PATH.lock lets one renderer of a file run at a time;
one that waited for it first looks whether the file it waited for is young enough (`--max-age-seconds`) and
then renders nothing."""

from __future__ import annotations

import argparse
import fcntl
import itertools
import os
import sys
import time
import zlib
from datetime import datetime
from pathlib import Path

from db.engine import make_engine
from geo.coords import CoordSystem
from partners.snapshot import snapshot_lines

GZIP_LEVEL = 3  # 120,000 stations: 17.7 MB in 1.3 s of CPU, against 14.9 MB in 2.6 s at 6


def fresh(path: Path, max_age_s: float) -> bool:
    """The file exists and was completed at most max_age_s seconds ago (wall clock: a file's age)."""
    try:
        return max_age_s > 0 and time.time() - path.stat().st_mtime <= max_age_s
    except FileNotFoundError:
        return False


def render(
    database_url: str, partner_id: int, coord: CoordSystem, now: datetime, out: Path, partial: Path
) -> int:
    """Write the snapshot to `partial` as it is read (gzip, one member; a reader may follow it), then rename
    it to `out`; the number of bytes before compression."""
    engine = make_engine(database_url, pool_size=1)
    plain = 0
    try:
        compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        lines = snapshot_lines(engine, partner_id, coord, now)
        first = next(lines)  # connected and holding the snapshot: only now does the file appear
        with partial.open("wb") as f:
            for chunk in itertools.chain((first,), lines):
                plain += len(chunk)
                f.write(compressor.compress(chunk))
                f.flush()
            f.write(compressor.flush())
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()
    return plain


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--partner-id", type=int, required=True)
    p.add_argument("--coord", choices=[c.value for c in CoordSystem], required=True)
    p.add_argument("--now", required=True, help="the snapshot's generated_at (ISO 8601 with offset)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-age-seconds", type=float, default=0.0)
    p.add_argument(
        "--partial", type=Path, help="where the file grows before it is complete (a reader follows it)"
    )
    args = p.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        p.error("DATABASE_URL is not set")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(args.out.with_name(args.out.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if fresh(args.out, args.max_age_seconds):
            print(f"snapshot {args.out.name}: a fresh one is there, nothing rendered", file=sys.stderr)
            return 0
        partial = args.partial or args.out.with_name(f".{args.out.name}.{os.getpid()}.part")
        now = datetime.fromisoformat(args.now)
        plain = render(database_url, args.partner_id, CoordSystem(args.coord), now, args.out, partial)
    print(
        f"snapshot {args.out.name}: {plain:,} bytes of NDJSON, {args.out.stat().st_size:,} gzipped, "
        f"{time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
