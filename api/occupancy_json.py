"""JSON shapes of occupancy answers (times as RFC 3339 UTC, minutes with one decimal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from api.instants import within_range
from api.query_string import ParameterErrors
from occupancy.book import StationOccupancy, WaitEstimate
from occupancy.forecast import ForecastSlot


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def parse_as_of(raw: str | None, now: datetime) -> float:
    """`as_of` (RFC 3339 with an offset) as epoch seconds; `now` when absent. A '+' of the offset that the
    query string turned into a space is put back."""
    if raw is None:
        return now.timestamp()
    text = raw.strip()
    if len(text) > 19 and text[-6] == " ":
        text = text[:-6] + "+" + text[-5:]
    elif len(text) > 19 and " " in text[19:]:
        text = text[:19] + text[19:].replace(" ", "+")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ParameterErrors(
            [
                {
                    "in": "query",
                    "name": "as_of",
                    "message": "Input should be an RFC 3339 time with offset, e.g. 2026-11-22T08:00:00+08:00",
                }
            ]
        )
    try:
        within_range(when)
    except ValueError as exc:
        raise ParameterErrors([{"in": "query", "name": "as_of", "message": f"Input {exc}"}]) from None
    return when.timestamp()


def occupancy_json(occ: StationOccupancy) -> dict[str, Any]:
    return {
        "station_id": occ.station_id,
        "as_of": iso(occ.as_of),
        "stale": occ.stale,
        "last_report": iso(occ.last_report),
        "waiting_vehicles": occ.waiting_vehicles,
        "positions": [
            {
                "number": p.number,
                "status": p.status,
                "grades": sorted(p.grades),
                "nozzle_state": p.nozzle_state.value if p.nozzle_state is not None else None,
                "since": iso(p.since),  # never who holds a claimed position: that names an order
            }
            for p in occ.positions
        ],
    }


def occupancy_summary(occ: StationOccupancy) -> dict[str, Any]:
    """For the station detail: counts of positions per status, staleness, last report."""
    counts = dict.fromkeys(("free", "occupied", "claimed", "offline", "unknown"), 0)
    for p in occ.positions:
        counts[p.status] = counts.get(p.status, 0) + 1
    return {
        "as_of": iso(occ.as_of),
        "stale": occ.stale,
        "last_report": iso(occ.last_report),
        "waiting_vehicles": occ.waiting_vehicles,
        "positions": counts,
    }


def forecast_json(
    station_id: int, grade: str, as_of: float, hours: int, stale: bool, slots: Sequence[ForecastSlot]
) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "grade": grade,
        "as_of": iso(as_of),
        "hours": hours,
        "stale": stale,
        "half_hours": [
            {
                "at": iso(s.at),
                "minutes": round(s.wait.mean_s / 60, 1),
                "p10_minutes": round(s.wait.p10_s / 60, 1),
                "p90_minutes": round(s.wait.p90_s / 60, 1),
                "arrival_rate_per_hour": round(s.arrival_rate_per_hour, 1),
                "holiday": s.holiday,
            }
            for s in slots
        ],
    }


def wait_json(est: WaitEstimate) -> dict[str, Any]:
    return {
        "station_id": est.station_id,
        "grade": est.grade,
        "as_of": iso(est.as_of),
        "minutes": round(est.minutes, 1),
        "p10_minutes": round(est.p10_minutes, 1),
        "p90_minutes": round(est.p90_minutes, 1),
        "busy_positions": est.busy_positions,
        "total_positions": est.total_positions,
        "arrival_rate_per_hour": round(est.arrival_rate_per_hour, 1),
        "queue_ahead": round(est.queue_ahead, 1),
        "basis": est.basis,
        "stale": est.stale,
        "last_report": iso(est.last_report),
        "suggested_position": est.suggested_position,
    }
