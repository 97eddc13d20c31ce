"""Response bodies of the occupancy routes (times RFC 3339 UTC, minutes with one decimal)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EventReject(BaseModel):
    index: int = Field(description="position of the item in the batch")
    code: str = Field(description="other_station, unknown_position, ts_order, invalid_field ...")
    reason: str


class EventsOutcome(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    rejects: list[EventReject]


class LivePosition(BaseModel):
    number: int
    status: Literal["free", "occupied", "claimed", "offline", "unknown"]
    grades: list[str]
    nozzle_state: str | None = Field(description="idle, calling, authorized, fueling, completed, offline")
    since: str | None = Field(
        description="since when; a claimed position never says which order holds it (public view)"
    )


class StationOccupancy(BaseModel):
    station_id: int
    as_of: str | None
    stale: bool
    last_report: str | None
    waiting_vehicles: int | None
    positions: list[LivePosition]


class ForecastHalfHour(BaseModel):
    at: str = Field(description="the half-hour mark (a vehicle arriving then)")
    minutes: float = Field(description="expected wait, minutes")
    p10_minutes: float
    p90_minutes: float
    arrival_rate_per_hour: float = Field(
        description="arrivals assumed then (learned rate x the day's factor)"
    )
    holiday: bool = Field(description="the mark's local day is a Chinese public holiday")


class WaitForecast(BaseModel):
    station_id: int
    grade: str
    as_of: str
    hours: int
    stale: bool = Field(description="the live state is stale: the forecast starts from no queue")
    half_hours: list[ForecastHalfHour]


class WaitEstimate(BaseModel):
    station_id: int
    grade: str
    as_of: str | None
    minutes: float
    p10_minutes: float
    p90_minutes: float
    busy_positions: int
    total_positions: int
    arrival_rate_per_hour: float
    queue_ahead: float
    basis: str = Field(description="reported_queue | inferred_queue | history_only (stale)")
    stale: bool
    last_report: str | None
    suggested_position: int | None
