"""Score wait estimates against the simulator's true waits, beside two baselines (pure, in process).

Telemetry is fed to a book in delivery order; at each vehicle's arrival (on the scored days) the estimate
for its grade at as_of = arrival is compared to the wait it really had. Baselines from the same observable
state: `naive` (0 when a suitable position is free, else the shortest remaining time among busy suitable
positions, remaining = learned median duration - elapsed, floored at 0) and `historical` (the station's
mean true wait over the earlier days), and issue 13's `naive_queue` (0 when a suitable position is free,
else (vehicles reported waiting + 1) x the learned mean time a vehicle holds a position / suitable
positions). `python -m loadtests.wait_scoring [--scenario holiday]` runs the standard stations (or the
harder ones of demodata.forecourt_sim.holiday_stations, with a holiday).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

from demodata.forecourt_sim import (
    EPOCH_CST_MIDNIGHT,
    HARD_FAULTS,
    HOLIDAY_RUN_START,
    Faults,
    SimulatedStation,
    StationSpec,
    Vehicle,
    holiday_stations,
    is_holiday,
    is_peak,
    simulate,
    standard_stations,
)
from occupancy.book import OccupancyBook, StationOccupancy
from occupancy.events import NozzleEvent, WaitingReport
from occupancy.learning import StationModel


@dataclass(frozen=True, slots=True)
class Scored:
    station_id: int
    arrival: float
    grade: str
    peak: bool
    real_min: float
    est_min: float
    p10_min: float
    p90_min: float
    naive_min: float
    hist_min: float
    basis: str
    local_min: float  # the in-process book's estimate (equal to est_min unless scored through a service)
    holiday: bool = False
    reports: bool = False  # the station sends waiting-vehicle counts
    naive_q_min: float = 0.0  # issue 13's naive baseline
    suggested: int | None = None  # the in-process answer's suggested_position


def naive_minutes(occ: StationOccupancy, model: StationModel, grade: str) -> float:
    serving = [v for v in occ.positions if grade in v.grades and v.status not in ("offline",)]
    if occ.stale or any(v.status == "free" for v in serving):
        return 0.0
    busy = [v for v in serving if v.status in ("occupied", "claimed") and v.since is not None]
    if not busy:
        return 0.0
    return min(max(0.0, model.median_s - (occ.as_of - v.since)) for v in busy if v.since is not None) / 60


def naive_queue_minutes(occ: StationOccupancy, model: StationModel, grade: str) -> float:
    """0 when a suitable position is free, else (reported waiting + 1) x mean hold time / suitable
    positions."""
    serving = [v for v in occ.positions if grade in v.grades and v.status not in ("offline",)]
    if not serving or occ.stale or any(v.status == "free" for v in serving):
        return 0.0
    hold_s = math.exp(model.mu + model.sigma**2 / 2)
    return ((occ.waiting_vehicles or 0) + 1) * hold_s / len(serving) / 60


@dataclass(frozen=True, slots=True)
class Scenario:
    """The stations, start, faults and default days of one evaluation."""

    specs: list[StationSpec]
    start: float
    faults: Faults
    days: int
    learn_days: int


def scenario(name: str) -> Scenario:
    if name == "holiday":  # three working days, an ordinary Thursday, the Mid-Autumn Friday
        return Scenario(holiday_stations(), HOLIDAY_RUN_START, HARD_FAULTS, 5, 3)
    return Scenario(standard_stations(), EPOCH_CST_MIDNIGHT, Faults(), 5, 3)


class Remote(Protocol):
    """A service under test: it receives the same deliveries and answers the wait (minutes, p10, p90,
    basis)."""

    def post(self, items: Sequence[NozzleEvent | WaitingReport]) -> None: ...

    def wait(self, station_id: int, grade: str, as_of: float) -> tuple[float, float, float, str]: ...

    def forecast(
        self, station_id: int, grade: str, as_of: float, hours: int
    ) -> list[tuple[float, float, float, float]]: ...


FORECAST_HOURS = (6.0, 12.0, 16.0)  # local hours of each scored day at which a forecast is asked
FORECAST_AHEAD = 12  # hours
FORECAST_GRADE = "92"
FORECAST_MATCH_S = 900.0  # real waits of vehicles arriving within this of a mark are its truth


@dataclass(frozen=True, slots=True)
class ForecastScored:
    station_id: int
    made_at: float
    at: float
    lead_h: float
    holiday: bool
    reports: bool
    est_min: float
    p10_min: float
    p90_min: float
    real_min: float  # mean real wait of the vehicles of FORECAST_GRADE arriving near the mark
    vehicles: int
    hist_min: float


def _score_forecast(
    sim: SimulatedStation,
    made_at: float,
    answer: Sequence[tuple[float, float, float, float]],
    vehicles: Sequence[Vehicle],
    hist: float,
) -> list[ForecastScored]:
    out = []
    for at, minutes, p10, p90 in answer:
        near = [
            v.wait_s / 60
            for v in vehicles
            if v.grade == FORECAST_GRADE and abs(v.arrival - at) <= FORECAST_MATCH_S
        ]
        if near:
            out.append(
                ForecastScored(
                    sim.spec.station_id,
                    made_at,
                    at,
                    (at - made_at) / 3600.0,
                    is_holiday(sim, at),
                    sim.spec.reports_every_s is not None,
                    minutes,
                    p10,
                    p90,
                    sum(near) / len(near),
                    len(near),
                    hist,
                )
            )
    return out


def score_station(
    sim: SimulatedStation,
    learn_days: int,
    stale_after_s: float = 300.0,
    remote: Remote | None = None,
    progress: Callable[[int, int], None] | None = None,
    forecasts: list[ForecastScored] | None = None,
) -> list[Scored]:
    """Replay one simulated station into a fresh book (and `remote`, when given, whose answers are then
    the ones scored) and score the days after the first `learn_days`. The baselines always come from the
    in-process book, which holds the same observable events. With `forecasts`, a forecast for 92 is
    asked at FORECAST_HOURS of each scored day (events delivered by then) and scored into it."""
    book = OccupancyBook(stale_after_s=stale_after_s)
    sid = sim.spec.station_id
    book.set_layout(sid, sim.spec.positions)
    deliveries = sim.deliveries
    i = 0
    out: list[Scored] = []
    vehicles = sorted(sim.vehicles, key=lambda v: v.arrival)
    day_sum = [0.0] * sim.days
    day_n = [0] * sim.days
    pending: list[NozzleEvent | WaitingReport] = []
    moments = sorted(
        sim.start + d * 86400.0 + h * 3600.0
        for d in range(learn_days, sim.days)
        for h in FORECAST_HOURS
        if forecasts is not None
    )
    for v in vehicles:
        day = int((v.arrival - sim.start) // 86400.0)
        while moments and moments[0] <= v.arrival and forecasts is not None:
            made_at = moments.pop(0)
            j = i
            while j < len(deliveries) and deliveries[j].at <= made_at:
                j += 1
            batch = [d.item for d in deliveries[i:j]]
            book.apply(batch)
            pending.extend(batch)
            i = j
            if remote is not None:
                if pending:
                    remote.post(pending)
                answer = remote.forecast(sid, FORECAST_GRADE, made_at, FORECAST_AHEAD)
            else:
                slots = book.forecast(sid, FORECAST_GRADE, made_at, FORECAST_AHEAD) or []
                answer = [(s.at, s.wait.mean_s / 60, s.wait.p10_s / 60, s.wait.p90_s / 60) for s in slots]
            pending = []
            n = sum(day_n[:day])
            hist = sum(day_sum[:day]) / n / 60 if n else 0.0
            forecasts.extend(_score_forecast(sim, made_at, answer, vehicles, hist))
        j = i
        while j < len(deliveries) and deliveries[j].at <= v.arrival:
            j += 1
        if j > i:
            batch = [d.item for d in deliveries[i:j]]
            book.apply(batch)
            if remote is not None:
                pending.extend(batch)
                if len(pending) >= 5000:
                    remote.post(pending)
                    pending = []
            i = j
        if day >= learn_days:
            if remote is not None and pending:
                remote.post(pending)
                pending = []
            est = book.wait(sid, v.grade, v.arrival)
            occ = book.occupancy(sid, v.arrival)
            model = book.model(sid, v.arrival)
            assert est is not None and occ is not None and model is not None
            minutes, p10, p90, basis = (
                remote.wait(sid, v.grade, v.arrival)
                if remote is not None
                else (est.minutes, est.p10_minutes, est.p90_minutes, est.basis)
            )
            n = sum(day_n[:day])
            hist = sum(day_sum[:day]) / n / 60 if n else 0.0
            out.append(
                Scored(
                    sid,
                    v.arrival,
                    v.grade,
                    is_peak(sim.spec, v.arrival),
                    v.wait_s / 60,
                    minutes,
                    p10,
                    p90,
                    naive_minutes(occ, model, v.grade),
                    hist,
                    basis,
                    est.minutes,
                    is_holiday(sim, v.arrival),
                    sim.spec.reports_every_s is not None,
                    naive_queue_minutes(occ, model, v.grade),
                    est.suggested_position,
                )
            )
            if progress is not None:
                progress(len(out), len(vehicles))
        day_sum[day] += v.wait_s
        day_n[day] += 1
    return out


LEADS = ((0.0, 1.0), (1.0, 3.0), (3.0, 6.0), (6.0, 12.0))


def forecast_summary(rows: Sequence[ForecastScored]) -> dict[str, dict[str, float]]:
    """Forecast error by hours ahead (and day kind): MAE against the mean real wait near each mark,
    the historical mean's, and how often the 10-90 band holds that mean."""
    out: dict[str, dict[str, float]] = {}
    for holiday in sorted({r.holiday for r in rows}):
        for lo, hi in LEADS:
            sel = [r for r in rows if r.holiday == holiday and lo < r.lead_h <= hi]
            if not sel:
                continue
            n = len(sel)
            out[f"{'holiday' if holiday else 'normal'} {lo:g}-{hi:g} h ahead"] = {
                "n": n,
                "mean_real_min": sum(r.real_min for r in sel) / n,
                "mae": sum(abs(r.est_min - r.real_min) for r in sel) / n,
                "hist_mae": sum(abs(r.hist_min - r.real_min) for r in sel) / n,
                "coverage": sum(r.p10_min - 1e-9 <= r.real_min <= r.p90_min + 1e-9 for r in sel) / n,
            }
    return out


def forecast_table(results: dict[str, dict[str, float]]) -> str:
    cols = ["n", "mean_real_min", "mae", "hist_mae", "coverage"]
    lines = [f"{'forecast (92)':28}" + "".join(f"{c:>16}" for c in cols)]
    for name, m in results.items():
        lines.append(
            f"{name:28}" + "".join(f"{m[c]:>16.3f}" if c != "n" else f"{int(m[c]):>16d}" for c in cols)
        )
    return "\n".join(lines)


def _q90(xs: Sequence[float]) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, int(0.9 * len(s)))]


def metrics(rows: Sequence[Scored]) -> dict[str, float]:
    n = len(rows)
    if not n:
        return {"n": 0}
    err = [abs(r.est_min - r.real_min) for r in rows]
    naive = [abs(r.naive_min - r.real_min) for r in rows]
    hist = [abs(r.hist_min - r.real_min) for r in rows]
    naive_q = [abs(r.naive_q_min - r.real_min) for r in rows]
    covered = sum(r.p10_min - 1e-9 <= r.real_min <= r.p90_min + 1e-9 for r in rows)
    queued = [r for r in rows if r.real_min > 0 or r.p90_min > 0]
    covered_q = sum(r.p10_min - 1e-9 <= r.real_min <= r.p90_min + 1e-9 for r in queued)
    waited = [r for r in rows if r.real_min > 0]
    covered_w = sum(r.p10_min - 1e-9 <= r.real_min <= r.p90_min + 1e-9 for r in waited)
    return {
        "n": n,
        "mean_real_min": sum(r.real_min for r in rows) / n,
        "mae": sum(err) / n,
        "p90_err": _q90(err),
        "naive_mae": sum(naive) / n,
        "naive_p90_err": _q90(naive),
        "hist_mae": sum(hist) / n,
        "hist_p90_err": _q90(hist),
        "coverage": covered / n,
        "coverage_nonzero": covered_q / len(queued) if queued else 1.0,
        "naive_q_mae": sum(naive_q) / n,
        "waited": len(waited),
        "coverage_waited": covered_w / len(waited) if waited else 1.0,
    }


def summary(rows: Sequence[Scored]) -> dict[str, dict[str, float]]:
    out = {"overall": metrics(rows), "peak": metrics([r for r in rows if r.peak])}
    out["off-peak"] = metrics([r for r in rows if not r.peak])
    for holiday in sorted({r.holiday for r in rows}):
        day = "holiday" if holiday else "normal"
        for rep in (True, False):
            for peak in (True, False):
                name = f"{day} {'counts' if rep else 'no counts'} {'peak' if peak else 'off-peak'}"
                sel = [r for r in rows if r.holiday == holiday and r.reports == rep and r.peak == peak]
                if sel:
                    out[name] = metrics(sel)
    for sid in sorted({r.station_id for r in rows}):
        out[f"station {sid} peak"] = metrics([r for r in rows if r.station_id == sid and r.peak])
    return out


def suggestion_summary(rows: Sequence[Scored]) -> dict[str, dict[str, float]]:
    """Suggestions against what the driver found, by day kind and queue counts: `suggested` answers that
    named a position; `then_waited` of those, drivers who really waited over 30 s (no suitable position
    was free on arrival: the named one was taken); `expected_wait` of those, answers that also expected a
    wait; `none_but_free` answers without a suggestion to drivers who found a suitable position free."""
    out: dict[str, dict[str, float]] = {}
    for holiday in sorted({r.holiday for r in rows}):
        for rep in (True, False):
            sel = [r for r in rows if r.holiday == holiday and r.reports == rep]
            if not sel:
                continue
            named = [r for r in sel if r.suggested is not None]
            out[f"{'holiday' if holiday else 'normal'} {'counts' if rep else 'no counts'}"] = {
                "answers": len(sel),
                "suggested": len(named),
                "then_waited": sum(r.real_min > 0.5 for r in named),
                "expected_wait": sum(r.est_min > 0 for r in named),
                "none_but_free": sum(r.suggested is None and r.real_min == 0 for r in sel),
                "free_on_arrival": sum(r.real_min == 0 for r in sel),
            }
    return out


def suggestion_table(results: dict[str, dict[str, float]]) -> str:
    keys = ("answers", "suggested", "then_waited", "expected_wait", "none_but_free", "free_on_arrival")
    lines = ["suggestions".ljust(24) + "".join(k.rjust(16) for k in keys)]
    for name, m in results.items():
        lines.append(name.ljust(24) + "".join(f"{int(m[k]):16d}" for k in keys))
    return "\n".join(lines)


def table(results: dict[str, dict[str, float]]) -> str:
    cols = [
        "n",
        "mean_real_min",
        "mae",
        "p90_err",
        "naive_mae",
        "naive_p90_err",
        "hist_mae",
        "hist_p90_err",
        "naive_q_mae",
        "coverage",
        "coverage_nonzero",
        "waited",
        "coverage_waited",
    ]
    lines = [f"{'':28}" + "".join(f"{c[:15]:>16}" for c in cols)]
    for name, m in results.items():
        lines.append(
            f"{name:28}"
            + "".join(
                f"{m.get(c, 0):>16.3f}" if c not in ("n", "waited") else f"{int(m.get(c, 0)):>16d}"
                for c in cols
            )
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", choices=("standard", "holiday"), default="standard")
    parser.add_argument("--days", type=int)
    parser.add_argument("--learn-days", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="write rows and summary here")
    args = parser.parse_args(argv)
    sc = scenario(args.scenario)
    days = args.days or sc.days
    learn_days = args.learn_days or sc.learn_days
    rows: list[Scored] = []
    forecasts: list[ForecastScored] = []
    for spec in sc.specs:
        t0 = time.perf_counter()
        sim = simulate(spec, days, seed=args.seed * 1000 + spec.station_id, faults=sc.faults, start=sc.start)
        scored = score_station(sim, learn_days, forecasts=forecasts)
        rows.extend(scored)
        print(
            f"station {spec.station_id}: {len(sim.vehicles)} vehicles, {len(sim.deliveries)} deliveries, "
            f"{len(scored)} scored in {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
    results = summary(rows)
    print(table(results))
    print(forecast_table(forecast_summary(forecasts)))
    print(suggestion_table(suggestion_summary(rows)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": results, "rows": [asdict(r) for r in rows]}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
