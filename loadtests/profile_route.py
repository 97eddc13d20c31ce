"""What an along-route search costs a worker in CPU, stage by stage, in one process and one thread.

    python -m loadtests.profile_route --database-url postgresql://stations@127.0.0.1:55432/bench_1m

Builds the snapshot and the price book as a worker does (geo.live_index, pricing.live_prices), then
runs the corridor benchmark's requests (loadtests.bench_route, same seed as loadtests.bench_nearby)
through the route's own steps: the body parsed and the route built (api.routes.route_search), the
corridor (geo.corridor), the rest of the listing (listing.route_list: ranking, columns) and the body
(api.route_render). Each stage is timed with time.process_time (CPU time, so the figures survive a
busy machine); a first pass warms the caches and is not counted. Prints p50/p90/p99 and the mean per
stage in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime
from typing import cast

import numpy as np

from api.route_render import route_body
from api.route_schemas import RouteSearch
from api.routes.route_search import route_ask, wgs84_route
from db.engine import make_engine
from geo import coords
from geo.corridor import corridor_stations
from geo.live_index import LiveIndex
from listing import route_list
from listing.sources import ListSources
from listing.waits import ListWaits
from loadtests import bench_route
from occupancy.feed import LiveFeed
from pricing.live_prices import LivePrices

STAGES = ("route", "corridor", "listing", "render", "total")


def load_sources(database_url: str) -> ListSources:
    """The worker's index and price book; no occupancy feed (the benchmark asks no waits)."""
    engine = make_engine(database_url, pool_size=1)
    prices = LivePrices(engine)
    index = LiveIndex(
        engine, on_new_snapshot=lambda snap, source: prices.rebuild(snap.ids, snap.version, source)
    )
    index.load()
    return ListSources(index, prices, cast(LiveFeed, None), ListWaits(60.0), engine)


async def one_request(sources: ListSources, line: str, now: datetime) -> dict[str, float]:
    spent: dict[str, float] = {}
    started = time.process_time()
    body = RouteSearch.model_validate_json(line.split("\t", 1)[1])
    coord = coords.CoordSystem.parse(body.coord)
    route = wgs84_route(body, coord)
    ask = route_ask(body, route, None, sources.index.snapshot.brands)
    spent["route"] = time.process_time() - started
    mark = time.process_time()
    corridor_stations(sources.index.snapshot, ask.corridor, sources.index.open_state(now))
    spent["corridor"] = time.process_time() - mark
    mark = time.process_time()
    found = await route_list.along_route(sources, ask, now)  # the corridor again, then ranking and columns
    spent["listing"] = time.process_time() - mark - spent["corridor"]
    mark = time.process_time()
    route_body(found, coord, route, ask, now)
    spent["render"] = time.process_time() - mark
    spent["total"] = spent["route"] + spent["corridor"] + spent["listing"] + spent["render"]
    return spent


async def profile(sources: ListSources, lines: list[str], now: datetime) -> dict[str, np.ndarray]:
    for line in lines:  # warm: disk caches, member memo, open states
        await one_request(sources, line, now)
    rows = [await one_request(sources, line, now) for line in lines]
    return {stage: np.asarray([row[stage] for row in rows]) * 1e3 for stage in STAGES}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20_261_121, help="loadtests.bench_nearby's default")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("no database: pass --database-url or set DATABASE_URL")
    started = time.perf_counter()
    sources = load_sources(args.database_url)
    print(f"{len(sources.index.snapshot):,} stations loaded in {time.perf_counter() - started:.1f} s")
    lines = bench_route.request_lines(args.requests, args.seed)
    times = asyncio.run(profile(sources, lines, datetime.now(UTC)))
    print(f"{len(lines)} requests, CPU ms per request (time.process_time, one thread):")
    print(f"{'stage':<10}{'p50':>8}{'p90':>8}{'p99':>8}{'mean':>8}")
    for stage, ms in times.items():
        p50, p90, p99 = np.percentile(ms, [50, 90, 99])
        print(f"{stage:<10}{p50:8.2f}{p90:8.2f}{p99:8.2f}{ms.mean():8.2f}")


if __name__ == "__main__":
    main()
