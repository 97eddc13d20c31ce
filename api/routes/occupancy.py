"""Occupancy: controllers post nozzle events; drivers read live positions and expected waits."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth_station import StationAuthDep
from api.deps import clock_of
from api.errors import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES
from api.occupancy_json import occupancy_json, parse_as_of, wait_json
from api.occupancy_live import book_with_layout
from geo.errors import StationNotFound
from geo.grades import normalize_grade
from occupancy.errors import BatchTooLarge, GradeNotSold, UnreadableBatch
from occupancy.feed import LiveFeed
from occupancy.ingest import IngestResult, ingest_batch
from occupancy.layouts import Layout
from occupancy.parse import parse_batch

router = APIRouter(tags=["occupancy"])
StationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="station id")]
AsOf = Annotated[
    str | None,
    Query(description="RFC 3339 time with offset (default now); only events at or before it count"),
]
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_EVENTS_DOC = """A batch of nozzle events `{station_id, position, nozzle, state, ts, seq}` (state: idle,
calling, authorized, fueling, completed, offline; ts RFC 3339 with offset; seq increasing per nozzle) and
waiting reports `{station_id, waiting_vehicles, ts}`, as a JSON array (`application/json`) or NDJSON
(`application/x-ndjson`), with the station's credential. Every item is accepted, counted as a duplicate,
or rejected with its index, a code (other_station, unknown_station, unknown_position, unknown_nozzle,
impossible_transition, ts_order, seq_conflict, report_conflict, future_ts, missing_field, invalid_field,
invalid_item) and a reason; the accepted ones are stored before the answer."""


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


@router.post(
    "/v1/occupancy/events",
    summary="A station's controller posts nozzle events and queue counts",
    description=_EVENTS_DOC,
    responses={
        **PROBLEM_RESPONSES,
        401: {"description": "No or unknown credential"},
        413: {"description": "Too many items or bytes"},
    },
)
async def post_events(request: Request, station_id: StationAuthDep) -> Response:
    settings = request.app.state.settings
    body = await _body(request, settings.occupancy_max_body_bytes)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in NDJSON_TYPES and media not in ("application/json", ""):
        raise UnreadableBatch(f"content type {media}: send application/json or application/x-ndjson")
    feed: LiveFeed = request.app.state.occupancy
    engine: Engine = request.app.state.engine
    clock = clock_of(request)

    def store() -> tuple[Layout | None, IngestResult]:
        batch = parse_batch(body, media in NDJSON_TYPES, settings.occupancy_max_batch)
        with engine.begin() as conn:
            layout = feed.layouts.get(conn, station_id)
            return layout, ingest_batch(conn, station_id, layout, batch, clock.now())

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
    summary="Live state of each fueling position",
    responses=PROBLEM_RESPONSES,
)
async def station_occupancy(request: Request, station_id: StationId, as_of: AsOf = None) -> dict[str, Any]:
    at = parse_as_of(as_of, clock_of(request).now())
    book = await book_with_layout(request, station_id)
    occ = book.occupancy(station_id, at)
    if occ is None:
        raise StationNotFound(station_id)
    return occupancy_json(occ)


@router.get(
    "/v1/stations/{station_id}/wait",
    summary="Expected wait for a grade for a vehicle arriving at as_of",
    responses={
        **PROBLEM_RESPONSES,
        422: {"description": "The station sells no such grade", "content": {PROBLEM_MEDIA_TYPE: {}}},
    },
)
async def station_wait(
    request: Request,
    station_id: StationId,
    grade: Annotated[str, Query(description="92, 95, 0 ...")],
    as_of: AsOf = None,
) -> dict[str, Any]:
    code = normalize_grade(grade)
    at = parse_as_of(as_of, clock_of(request).now())
    book = await book_with_layout(request, station_id)
    est = book.wait(station_id, code, at)
    if est is None:
        raise GradeNotSold(f"station {station_id} has no fueling position serving {code}")
    return wait_json(est)
