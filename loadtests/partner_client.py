"""A partner's client: take the snapshot, then follow the change feed with long-poll, and report lag.

    python -m loadtests.partner_client --api http://127.0.0.1:8000 --key "$PARTNER_KEY" --duration 60

It streams GET /v1/partner/snapshot (gzip) into a dict of stations, then asks GET /v1/partner/changes from
the snapshot's end cursor with `wait=` (long-poll) and If-None-Match, applying each item (a deletion
removes the station). The lag of an item is its receipt time minus its `committed_at` (the service's and
this machine's clocks: run it on the same host, or mind their offset). Progress every --report seconds;
at the end a summary (stations held, items, pages, 304s, lag p50/p99/max). A 410 resync-required takes
the snapshot again. `FeedFollower` is what loadtests/bench_freshness.py runs against each worker.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import numpy as np
import orjson


@dataclass
class Received:
    station_id: int
    seq: int
    station: dict[str, Any] | None
    lag_s: float  # receipt - committed_at
    at: float  # receipt, time.monotonic()


@dataclass
class FeedFollower:
    """Follows the feed on one keep-alive connection (so, one worker of the service)."""

    host: str
    port: int
    token: str
    coord: str = "wgs84"
    wait_s: int = 10
    limit: int = 500
    cursor: str = ""
    stations: dict[int, dict[str, Any]] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    pages: int = 0
    not_modified: int = 0
    resyncs: int = 0
    items: int = 0
    on_item: Callable[[Received], None] | None = None
    _etag: str | None = None
    _conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.wait_s + 30)
        return self._conn

    def _get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        conn = self._connection()
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}", **headers})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self._conn = None
            raise
        found = {k.lower(): v for k, v in response.getheaders()}
        if found.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return response.status, found, body

    def snapshot(self) -> int:
        """Stream the snapshot into `stations`; the end line's cursor becomes the feed's start."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
        conn.request(
            "GET",
            f"/v1/partner/snapshot?{urlencode({'coord': self.coord})}",
            headers={"Authorization": f"Bearer {self.token}", "Accept-Encoding": "gzip"},
        )
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"snapshot: {response.status} {response.read()[:300]!r}")
        inflate = zlib.decompressobj(31) if response.getheader("Content-Encoding") == "gzip" else None
        self.stations.clear()
        rest = b""
        end: dict[str, Any] | None = None
        while chunk := response.read(1 << 16):
            rest += inflate.decompress(chunk) if inflate is not None else chunk
            *lines, rest = rest.split(b"\n")
            for line in lines:
                record = orjson.loads(line)
                if record["type"] == "station":
                    self.stations[record["station"]["id"]] = record["station"]
                elif record["type"] == "end":
                    end = record
        conn.close()
        if end is None:
            raise RuntimeError("snapshot cut before its end line: take it again")
        self.cursor = end["cursor"]
        return len(self.stations)

    def poll(self) -> int:
        """One page (held up to wait_s when nothing is new); the items applied."""
        query = urlencode(
            {"cursor": self.cursor, "limit": self.limit, "wait": self.wait_s, "coord": self.coord}
        )
        headers = {"Accept-Encoding": "gzip"}
        if self._etag:
            headers["If-None-Match"] = self._etag
        status, found, body = self._get(f"/v1/partner/changes?{query}", headers)
        received = time.time()
        self.pages += 1
        if status == 304:
            self.not_modified += 1
            return 0
        if status == 410:
            self.resyncs += 1
            self.snapshot()
            return 0
        if status != 200:
            raise RuntimeError(f"changes: {status} {body[:300]!r}")
        page = orjson.loads(body)
        self._etag = found.get("etag")
        now = time.monotonic()
        for item in page["items"]:
            lag = received - datetime.fromisoformat(item["committed_at"]).timestamp()
            self.lags.append(lag)
            if item["deleted"]:
                self.stations.pop(item["station_id"], None)
            else:
                self.stations[item["station_id"]] = item["station"]
            if self.on_item is not None:
                self.on_item(Received(item["station_id"], item["seq"], item["station"], lag, now))
        self.items += len(page["items"])
        self.cursor = page["cursor"]
        return len(page["items"])

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll()
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                print(f"partner client: {exc}; retrying", file=sys.stderr, flush=True)
                stop.wait(1.0)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def lag_summary(lags: list[float]) -> dict[str, float | int]:
    if not lags:
        return {"items": 0}
    values = np.array(lags)
    return {
        "items": len(lags),
        "p50_s": round(float(np.percentile(values, 50)), 4),
        "p99_s": round(float(np.percentile(values, 99)), 4),
        "max_s": round(float(values.max()), 4),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loadtests.partner_client", description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--key", required=True, help="a partner key with stations:read, prices:read, feed:read"
    )
    parser.add_argument("--coord", default="wgs84", choices=("wgs84", "gcj02", "bd09"))
    parser.add_argument(
        "--duration", type=float, default=60.0, help="seconds of following after the snapshot"
    )
    parser.add_argument("--wait", type=int, default=10, help="long-poll seconds (at most 30)")
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--report", type=float, default=10.0, help="seconds between progress lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url = urlsplit(args.api)
    follower = FeedFollower(
        url.hostname or "127.0.0.1", url.port or 80, args.key, args.coord, args.wait, args.limit
    )
    started = time.monotonic()
    try:
        count = follower.snapshot()
    except (OSError, RuntimeError) as exc:
        print(f"partner client: snapshot failed: {exc}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    print(f"snapshot: {count:,} stations in {took:.1f} s; following from {follower.cursor}")
    stop = threading.Event()
    thread = threading.Thread(target=follower.run, args=(stop,), daemon=True)
    thread.start()
    began = last = time.monotonic()
    try:
        while time.monotonic() - began < args.duration:
            time.sleep(min(args.report, max(0.1, args.duration - (time.monotonic() - began))))
            if time.monotonic() - last >= args.report:
                s = lag_summary(follower.lags)
                print(
                    f"  {time.monotonic() - began:.0f} s: {follower.items:,} items, {follower.pages} pages, "
                    f"{len(follower.stations):,} stations held, lag p50 {s.get('p50_s', '-')} s "
                    f"p99 {s.get('p99_s', '-')} s",
                    flush=True,
                )
                last = time.monotonic()
    except KeyboardInterrupt:
        pass
    stop.set()
    thread.join(timeout=args.wait + 5)
    follower.close()
    s = lag_summary(follower.lags)
    print(
        f"summary: {follower.items:,} items, {follower.pages} pages ({follower.not_modified} not modified, "
        f"{follower.resyncs} resyncs), {len(follower.stations):,} stations held, commit-to-receipt lag "
        f"p50 {s.get('p50_s', '-')} s, p99 {s.get('p99_s', '-')} s, max {s.get('max_s', '-')} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
