"""The occupancy book in one process: apply() events per second, wait() and wait_minutes() latency.

    .venv/bin/python -m loadtests.bench_book [--stations 200] [--days 2]

Simulated stations (demodata.forecourt_sim) are replayed in delivery order (faults included) into one book;
then wait() is timed at arrivals of the last day and wait_minutes() over the same (station, grade, second).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from demodata.forecourt_sim import StationSpec, simulate, standard_stations
from occupancy.book import OccupancyBook
from occupancy.events import NozzleEvent, PositionClaim, WaitingReport


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    specs = standard_stations()
    items: list[NozzleEvent | WaitingReport | PositionClaim] = []
    probes: list[tuple[int, str, float]] = []
    book = OccupancyBook()
    t0 = time.perf_counter()
    for n in range(args.stations):
        base = specs[n % len(specs)]
        spec = StationSpec(
            **{**{f: getattr(base, f) for f in base.__dataclass_fields__}, "station_id": 100_000 + n}
        )
        sim = simulate(spec, args.days, seed=n)
        book.set_layout(spec.station_id, spec.positions)
        items.extend(d.item for d in sim.deliveries)
        last_day = sim.start + (args.days - 1) * 86400.0
        probes.extend(
            (spec.station_id, v.grade, v.arrival) for v in sim.vehicles[::25] if v.arrival >= last_day
        )
        if n % 50 == 49:
            print(f"simulated {n + 1}/{args.stations} stations", flush=True)
    items.sort(key=lambda i: i.ts)
    print(
        f"simulated {args.stations} stations x {args.days} days: {len(items)} items in "
        f"{time.perf_counter() - t0:.1f}s"
    )
    gc.collect()
    t0 = time.perf_counter()
    for k in range(0, len(items), 5000):
        book.apply(items[k : k + 5000])
    apply_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    book.apply(items[: len(items) // 10])
    dup_s = time.perf_counter() - t0
    waits: list[float] = []
    for sid, grade, at in probes[:2000]:
        t = time.perf_counter()
        book.wait(sid, grade, at)
        waits.append(time.perf_counter() - t)
    rounded = [(sid, grade, float(int(at))) for sid, grade, at in probes[:2000]]
    for probe in rounded:
        book.wait_minutes(*probe)
    t0 = time.perf_counter()
    for _ in range(10):
        for probe in rounded:
            book.wait_minutes(*probe)
    cached_us = (time.perf_counter() - t0) / (10 * len(rounded)) * 1e6
    waits.sort()
    print("summary")
    print(f"  apply: {len(items) / apply_s:,.0f} items/s ({len(items)} items, in order of event time)")
    print(f"  apply of repeats: {len(items) // 10 / dup_s:,.0f} items/s")
    print(
        f"  wait(): median {statistics.median(waits) * 1e3:.2f} ms, "
        f"p90 {waits[int(0.9 * len(waits))] * 1e3:.2f} ms over {len(waits)} arrivals"
    )
    print(f"  wait_minutes() cached: {cached_us:.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
