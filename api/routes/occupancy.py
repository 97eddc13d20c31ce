"""Occupancy: controllers post nozzle events; drivers read live positions and expected waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth_station import ForecourtDep
from api.checked_route import CheckedRoute
from api.deps import clock_of
from api.grade_text import GradeQuery
from api.instants import AS_OF_QUERY, instant_text
from api.occupancy_answers import EventsOutcome, StationOccupancy, WaitEstimate, WaitForecast
from api.occupancy_json import forecast_json, occupancy_json, parse_as_of, wait_json
from api.occupancy_live import book_with_layout
from api.problems import problem_responses
from api.services import services_of
from api.strict_types import MAX_ID
from geo.errors import StationNotFound
from geo.grades import normalize_grade
from occupancy.book import OccupancyBook
from occupancy.errors import BatchTooLarge, GradeNotSold, MomentNotRetained, UnreadableBatch
from occupancy.forecast import MAX_HOURS
from occupancy.ingest import IngestResult, ingest_batch
from occupancy.layouts import Layout
from occupancy.parse import parse_batch

router = APIRouter(tags=["occupancy"], route_class=CheckedRoute)
StationId = Annotated[int, Path(ge=1, le=MAX_ID, description="station id")]
AsOf = Annotated[
    str | None,
    Query(
        description="RFC 3339 time with offset (default now); only events at or before it count",
        json_schema_extra=AS_OF_QUERY,
        examples=["2026-11-22T08:00:00+08:00"],
    ),
]
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_EVENTS_DOC = """A batch of nozzle events `{station_id, position, nozzle, state, ts, seq}` (state: idle,
calling, authorized, fueling, completed, offline; ts RFC 3339 with offset; seq increasing per nozzle) and
waiting reports `{station_id, waiting_vehicles, ts}`, as a JSON array (`application/json`) or NDJSON
(`application/x-ndjson`), with the station's credential. Every item is accepted, counted as a duplicate,
or rejected with its index, a code (other_station, unknown_station, unknown_position, unknown_nozzle,
impossible_transition, ts_order, seq_conflict, report_conflict, future_ts, expired_ts (older than the
occupancy retention), missing_field, invalid_field, invalid_item) and a reason; the accepted ones are
stored before the answer."""


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BatchTooLarge(f"body of {declared} bytes: at most {limit} per request")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BatchTooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


EVENTS_BODY = {
    "required": True,
    "description": "a JSON array; each item is judged on its own (an item that is not a nozzle event or a "
    "waiting report is rejected in the answer, not refused). The same items as NDJSON "
    "(application/x-ndjson) are read too.",
    "content": {
        "application/json": {
            "schema": {"type": "array", "items": {}},  # read here, not by httpguard's JSON checks
            "example": [
                {
                    "station_id": 1,
                    "position": 1,
                    "nozzle": 1,
                    "state": "fueling",
                    "ts": "2026-11-22T08:00:00+08:00",
                    "seq": 17,
                },
                {"station_id": 1, "waiting_vehicles": 2, "ts": "2026-11-22T08:00:00+08:00"},
            ],
        }
    },
}


@router.post(
    "/v1/occupancy/events",
    operation_id="postOccupancyEvents",
    summary="A station's controller posts nozzle events and queue counts",
    description=_EVENTS_DOC,
    response_model=EventsOutcome,
    responses=problem_responses(
        {400: ["unreadable-batch"], 401: ["unauthorized"], 403: ["role-forbidden"], 413: ["batch-too-large"]},
        body=True,
    ),
    openapi_extra={"requestBody": EVENTS_BODY},
)
async def post_events(request: Request, staff: ForecourtDep) -> Response:
    station_id = staff.station_id
    services = services_of(request)
    settings = services.settings
    body = await _body(request, settings.occupancy_max_body_bytes)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in NDJSON_TYPES and media not in ("application/json", ""):
        raise UnreadableBatch(f"content type {media}: send application/json or application/x-ndjson")
    feed, engine = services.occupancy, services.engine
    clock = clock_of(request)

    def store() -> tuple[Layout | None, IngestResult]:
        batch = parse_batch(body, media in NDJSON_TYPES, settings.occupancy_max_batch)
        with engine.begin() as conn:
            layout = feed.layouts.get(conn, station_id)
            now = clock.now()
            oldest = now - timedelta(days=settings.occupancy_retention_days)
            return layout, ingest_batch(conn, station_id, layout, batch, now, oldest=oldest)

    layout, result = await run_in_threadpool(store)
    feed.apply_own((station_id, layout) if layout is not None else None, result.events, result.reports)
    answer = {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": len(result.rejects),
        "rejects": [{"index": r.index, "code": r.code, "reason": r.reason} for r in result.rejects],
    }
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get(
    "/v1/stations/{station_id}/occupancy",
    operation_id="stationOccupancy",
    summary="Live state of each fueling position",
    response_model=StationOccupancy,
    responses=problem_responses({404: ["station-not-found"], 422: ["as-of-not-retained"]}),
)
async def station_occupancy(request: Request, station_id: StationId, as_of: AsOf = None) -> dict[str, Any]:
    at = parse_as_of(as_of, clock_of(request).now())
    services = services_of(request)
    book = await book_with_layout(services.occupancy, services.engine, station_id)
    _retained(book, station_id, at)
    occ = book.occupancy(station_id, at)
    if occ is None:
        raise StationNotFound(station_id)
    return occupancy_json(occ)


@router.get(
    "/v1/stations/{station_id}/wait",
    operation_id="stationWait",
    summary="Expected wait for a grade for a vehicle arriving at as_of",
    response_model=WaitEstimate,
    responses=problem_responses(
        {400: ["unknown-grade"], 404: ["station-not-found"], 422: ["grade-not-sold", "as-of-not-retained"]}
    ),
)
async def station_wait(
    request: Request,
    station_id: StationId,
    grade: GradeQuery,
    as_of: AsOf = None,
) -> dict[str, Any]:
    code = normalize_grade(grade)
    at = parse_as_of(as_of, clock_of(request).now())
    services = services_of(request)
    book = await book_with_layout(services.occupancy, services.engine, station_id)
    _retained(book, station_id, at)
    est = book.wait(station_id, code, at)
    if est is None:
        raise GradeNotSold(f"station {station_id} has no fueling position serving {code}")
    return wait_json(est)


@router.get(
    "/v1/stations/{station_id}/wait/forecast",
    operation_id="stationWaitForecast",
    summary="Expected wait for a grade at each half hour ahead (when to go)",
    response_model=WaitForecast,
    responses=problem_responses(
        {400: ["unknown-grade"], 404: ["station-not-found"], 422: ["grade-not-sold", "as-of-not-retained"]}
    ),
)
async def station_wait_forecast(
    request: Request,
    station_id: StationId,
    grade: GradeQuery,
    hours: Annotated[
        int, Query(ge=1, le=MAX_HOURS, description="how far ahead, hours (half-hour steps)")
    ] = 24,
    as_of: AsOf = None,
) -> dict[str, Any]:
    code = normalize_grade(grade)
    at = parse_as_of(as_of, clock_of(request).now())
    services = services_of(request)
    book = await book_with_layout(services.occupancy, services.engine, station_id)
    _retained(book, station_id, at)
    slots = book.forecast(station_id, code, at, hours)  # on the loop: the book is not shared with threads
    occ = book.occupancy(station_id, at)
    if slots is None or occ is None:
        raise GradeNotSold(f"station {station_id} has no fueling position serving {code}")
    return forecast_json(station_id, code, at, hours, occ.stale, slots)


def _retained(book: OccupancyBook, station_id: int, at: float) -> None:
    start = book.answerable_from(station_id)
    if start is not None and at < start:
        when = instant_text(datetime.fromtimestamp(start, UTC))
        raise MomentNotRetained(
            f"as_of is older than the events kept for station {station_id}: ask about {when} or later"
        )
