"""Stations with a forecourt, and nozzle events to post for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from access.credentials import issue
from geo.hours import OpeningHours
from geo.records import StationRecord
from tests.support import insert_records

KUNMING = (102.7123, 25.0406)  # WGS-84
CHINA = ZoneInfo("Asia/Shanghai")
# Position 1: 92 and 95; position 2: 92, 95 and 0; position 3: 0 only.
FORECOURT = (("92", "95"), ("92", "95", "0"), ("0",))


def forecourt_station(
    name: str = "中国石化 测试站",
    dx_m: float = 0.0,
    positions: tuple[tuple[str, ...], ...] = FORECOURT,
    **extra: Any,
) -> StationRecord:
    fields: dict[str, Any] = {
        "brand": "sinopec",
        "grades": tuple(sorted({g for p in positions for g in p})),
        "opening_hours": OpeningHours(always_open=True),
        "positions": positions,
    }
    fields.update(extra)
    return StationRecord(name=name, lon=KUNMING[0] + dx_m / 101_000.0, lat=KUNMING[1], **fields)


def stations_with_tokens(engine: Engine, records: list[StationRecord]) -> list[tuple[int, str]]:
    ids = insert_records(engine, records)
    return [(sid, issue(engine, sid).token) for sid in ids]


def at(seconds_ago: float, now: datetime | None = None) -> str:
    """An RFC 3339 time `seconds_ago` before now, in China time (+08:00) as controllers send it."""
    when = (now or datetime.now(UTC)) - timedelta(seconds=seconds_ago)
    return when.astimezone(CHINA).isoformat(timespec="milliseconds")


def event(station_id: int, position: int, nozzle: int, state: str, seq: int, ts: str) -> dict[str, Any]:
    return {
        "station_id": station_id,
        "position": position,
        "nozzle": nozzle,
        "state": state,
        "ts": ts,
        "seq": seq,
    }


def session(
    station_id: int,
    position: int,
    nozzle: int,
    first_seq: int,
    start_ago: float,
    states: tuple[str, ...] = ("calling", "authorized", "fueling", "completed", "idle"),
    step_s: float = 20.0,
) -> list[dict[str, Any]]:
    """One vehicle's fueling as a controller reports it: consecutive seqs, `step_s` apart."""
    return [
        event(station_id, position, nozzle, state, first_seq + i, at(start_ago - i * step_s))
        for i, state in enumerate(states)
    ]
