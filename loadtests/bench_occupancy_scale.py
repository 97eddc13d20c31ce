"""Occupancy for every station in China in one worker's book: memory, ingest rate, /wait latency.

    .venv/bin/python -m loadtests.bench_occupancy_scale [--stations 110000 --templates 24 --days 15]

Simulated template stations (demodata.forecourt_sim, national-average and busy ones, with the last day
a holiday at twice the usual arrivals) are replayed over `--days` days into one book each, in delivery
order, in small batches as stations post them. The book's state per station after that is steady: 14
days of packed summaries and the estimator's last 90 minutes of events, ending at the holiday's
morning peak (its busiest raw window). `--stations` independent copies of those states (each station
its own objects, unpickled) make the national book; the process's resident memory before and after
gives its size per worker. The national event rate is the templates' mean events per station and day,
times the stations; the peak rate is the busiest minute of the holiday. `wait()` is timed at the peak
on random stations of the national book. Results: var/bench/occupancy-scale-<time>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import pickle
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from demodata.forecourt_sim import EPOCH_CST_MIDNIGHT, Peak, StationSpec, simulate, standard_stations
from occupancy.book import OccupancyBook
from occupancy.events import NozzleEvent

OUT_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"
PEAK_HOUR = 8.5  # local time the national book is taken at, on the holiday


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def templates(count: int) -> list[StationSpec]:
    """A national mix: mostly average stations (about 200 vehicles a day), some busy ones (700+)."""
    small, _, large, _ = standard_stations()
    out = []
    for n in range(count):
        busy = n % 5 == 4
        base = large if busy else small
        rate = 30.0 if busy else 7.0
        peaks = (Peak(8.0, 0.75, rate * 1.5), Peak(18.0, 1.0, rate * 1.8))
        out.append(
            dataclasses.replace(
                base,
                station_id=1_000_000 + n,
                day_rate_per_h=rate,
                peaks=peaks,
                reports_every_s=60.0 if n % 2 else None,
            )
        )
    return out


def replay(spec: StationSpec, days: int, seed: int) -> tuple[bytes, int, Counter[int], float, float]:
    """The station's book state at the holiday's peak (pickled), its deliveries, deliveries per minute of
    the holiday, as_of, and the seconds apply() took."""
    holiday = dataclasses.replace(
        spec,
        day_rate_per_h=spec.day_rate_per_h * 2,
        peaks=tuple(dataclasses.replace(p, extra_per_h=p.extra_per_h * 2) for p in spec.peaks),
    )
    ordinary = simulate(spec, days - 1, seed=seed)
    last = simulate(holiday, 1, seed=seed + 1, start=EPOCH_CST_MIDNIGHT + (days - 1) * 86400.0)
    as_of = EPOCH_CST_MIDNIGHT + (days - 1) * 86400.0 + PEAK_HOUR * 3600.0
    book = OccupancyBook()
    book.set_layout(spec.station_id, spec.positions)
    deliveries = list(ordinary.deliveries) + [
        dataclasses.replace(d, item=_renumbered(d.item, ordinary)) for d in last.deliveries
    ]
    deliveries = [d for d in deliveries if d.at <= as_of]
    deliveries.sort(key=lambda d: d.at)
    per_minute: Counter[int] = Counter()
    for d in last.deliveries:
        per_minute[int((d.item.ts - last.start) // 60)] += 1
    started = time.perf_counter()
    for k in range(0, len(deliveries), 20):
        book.apply([d.item for d in deliveries[k : k + 20]])
    took = time.perf_counter() - started
    return pickle.dumps(book._stations[spec.station_id]), len(deliveries), per_minute, as_of, took


def _renumbered(item: Any, before: Any) -> Any:
    """The holiday's events continue each nozzle's seq after the ordinary days."""
    if not isinstance(item, NozzleEvent):
        return item
    top = _tops(before)
    return dataclasses.replace(item, seq=item.seq + top.get((item.position, item.nozzle), 0))


_TOPS: dict[int, dict[tuple[int, int], int]] = {}


def _tops(sim: Any) -> dict[tuple[int, int], int]:
    found = _TOPS.get(id(sim))
    if found is None:
        found = {}
        for e in sim.events:
            key = (e.position, e.nozzle)
            found[key] = max(found.get(key, 0), e.seq)
        _TOPS[id(sim)] = found
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=110_000)
    parser.add_argument("--templates", type=int, default=24)
    parser.add_argument("--days", type=int, default=15)
    parser.add_argument("--waits", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    say(f"simulating {args.templates} template stations x {args.days} days (the last a holiday)")
    states: list[bytes] = []
    specs = templates(args.templates)
    events_per_day: list[float] = []
    peak_minute = Counter[int]()
    as_of = 0.0
    apply_s = 0.0
    applied = 0
    for n, spec in enumerate(specs):
        state, count, per_minute, as_of, took = replay(spec, args.days, args.seed * 100 + n)
        apply_s += took
        applied += count
        states.append(state)
        events_per_day.append(count / (args.days - 1 + PEAK_HOUR / 24))
        peak_minute.update(per_minute)
        say(f"  template {n + 1}/{len(specs)}: {count} deliveries, state {len(state) / 1024:.1f} KiB pickled")
    gc.collect()
    before = rss_bytes()
    book = OccupancyBook()
    say(f"building the national book: {args.stations} stations")
    for i in range(args.stations):
        book._stations[i + 1] = pickle.loads(states[i % len(states)])
        if (i + 1) % 20_000 == 0:
            say(f"  {i + 1} stations, {(rss_bytes() - before) / 2**20:.0f} MiB")
    gc.collect()
    held = rss_bytes() - before
    rng = random.Random(args.seed)
    grades = ("92", "95", "0")
    latencies = []
    for _ in range(args.waits):
        sid = rng.randrange(1, args.stations + 1)
        started = time.perf_counter()
        book.wait(sid, rng.choice(grades), as_of - rng.random() * 5)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    mean_day = statistics.fmean(events_per_day)
    national_per_s = mean_day * args.stations / 86400.0
    busiest = max(peak_minute.values()) / len(specs) * args.stations / 60.0
    report = {
        "stations": args.stations,
        "templates": len(specs),
        "days": args.days,
        "book_bytes_per_worker": held,
        "bytes_per_station": held / args.stations,
        "node_bytes_two_workers": 2 * held,
        "events_per_station_day": mean_day,
        "national_events_per_s_mean": national_per_s,
        "national_events_per_s_holiday_peak": busiest,
        "apply_us_per_event": apply_s / applied * 1e6,
        "worker_share_of_a_core_at_peak": busiest * apply_s / applied,
        "wait_ms_p50": latencies[len(latencies) // 2],
        "wait_ms_p99": latencies[int(len(latencies) * 0.99)],
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"occupancy-scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    say(
        f"summary: {args.stations} stations, book {held / 2**30:.2f} GiB per worker "
        f"({held / args.stations / 1024:.1f} KiB per station; 2 workers {2 * held / 2**30:.2f} GiB); "
        f"national events {national_per_s:,.0f}/s mean, {busiest:,.0f}/s at the holiday peak; "
        f"apply {report['apply_us_per_event']:.1f} µs/event ; "
        f"wait() p50 {report['wait_ms_p50']:.2f} ms, p99 {report['wait_ms_p99']:.2f} ms; results in {out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
