"""The partner snapshot (NDJSON stream) and the change feed that continues it (long-poll, ETag)."""

from __future__ import annotations

import hashlib
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from api.checked_route import CheckedRoute
from api.partner_gzip import VARY, accepts_gzip, gzip_bytes
from api.partner_params import PROBLEMS, CoordQuery, FeedReader, StationsReader, also_needs, coord_for
from api.partner_schemas import CURSOR_PATTERN, FeedPage, SnapshotLine
from api.problems import merge, problem_responses
from api.services import services_of
from partners.changes import read_feed
from partners.snapshot_files import SnapshotFiles, plain

router = APIRouter(prefix="/v1/partner", tags=["partner"], route_class=CheckedRoute)
NDJSON = "application/x-ndjson"
MAX_WAIT_S = 30
_GZIP_DOC = {
    "Content-Encoding": {
        "description": "gzip when the request's Accept-Encoding allows it",
        "schema": {"type": "string", "enum": ["gzip"]},
    }
}


class NdjsonStream(StreamingResponse):
    media_type = NDJSON


_SNAPSHOT_DOC = (
    "One line per JSON object (NDJSON, `application/x-ndjson`; gzip with `Accept-Encoding: gzip`): a "
    "`header` line (coordinate system, the change-log transaction `head_seq` the snapshot is as of, the "
    "licence), one `station` line per station in id order with its current prices and your POI id, and "
    "an `end` line whose `cursor` is where GET /v1/partner/changes continues: no change is missing and none "
    "is repeated. Streamed from one REPEATABLE READ transaction: the stations are exactly the state after "
    "`head_seq`. A stream without its `end` line was cut: take it again."
)


@router.get(
    "/snapshot",
    operation_id="partnerSnapshot",
    summary="Every station with its current prices, consistent as of one point of the change log (NDJSON)",
    description=_SNAPSHOT_DOC,
    response_class=NdjsonStream,
    responses={
        200: {
            "model": SnapshotLine,
            "description": "NDJSON lines, each a SnapshotLine",
            "headers": _GZIP_DOC,
        },
        **problem_responses(PROBLEMS),
    },
)
async def snapshot(request: Request, partner: StationsReader, coord: CoordQuery = None) -> Response:
    also_needs(partner, "prices:read")
    system = coord_for(partner, coord)
    services = services_of(request)
    settings = services.settings
    files = SnapshotFiles(
        settings.partner_snapshot_dir, settings.dsn(), settings.partner_snapshot_max_age_seconds
    )
    # rendered by another process (this worker's interpreter stays free), sent as the file grows
    chunks = await files.open(partner.partner_id, system, services.clock.now())
    headers = {"Cache-Control": "private, no-store", **VARY}
    if accepts_gzip(request):
        return NdjsonStream(chunks, headers={**headers, "Content-Encoding": "gzip"})
    return NdjsonStream(plain(chunks), headers=headers)


def _etag(partner_id: int, coord: str, limit: int, after: str, page: Any) -> str:
    key = f"{partner_id}|{coord}|{limit}|{after}|{page.cursor}|{page.head_seq}".encode()
    return '"' + hashlib.sha256(key).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    given = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in given or etag in given


@router.get(
    "/changes",
    operation_id="partnerChanges",
    summary="What changed after a cursor: stations, prices, status, your POI ids, as current values",
    description=(
        "Items in commit order, one per (transaction, station), each with the station's current values (or "
        "`deleted`). Follow `cursor` from page to page (start with the snapshot's end cursor): every change "
        "is seen once, in order, also under concurrent writers. `wait=` (seconds, up to 30) holds an empty "
        "answer until something commits (LISTEN/NOTIFY) or the time is up. With `If-None-Match` set to the "
        "ETag of the last answer, an unchanged answer is a 304. A cursor older than the retention (or after "
        "a catalogue truncation) is a 410 `resync-required`: take a new snapshot."
    ),
    response_model=FeedPage,
    responses={
        200: {
            "headers": {"ETag": {"description": "of this answer", "schema": {"type": "string"}}, **_GZIP_DOC}
        },
        304: {"description": "Not modified: nothing committed after the cursor (If-None-Match)"},
        **problem_responses(merge(PROBLEMS, {400: ["invalid-cursor"], 410: ["resync-required"]})),
    },
)
async def changes(
    request: Request,
    partner: FeedReader,
    cursor: Annotated[
        str, Query(pattern=CURSOR_PATTERN, description="the snapshot's end cursor, or the last page's cursor")
    ],
    limit: Annotated[
        int, Query(ge=1, le=1000, description="items per page (a transaction is never split)")
    ] = 500,
    wait: Annotated[int, Query(ge=0, le=MAX_WAIT_S, description="seconds to hold an empty answer")] = 0,
    coord: CoordQuery = None,
) -> Response:
    system = coord_for(partner, coord)
    services = services_of(request)
    engine, signal = services.engine, services.commits
    deadline = time.monotonic() + wait
    after = cursor
    while True:
        generation = signal.generation if signal is not None else 0
        page = await run_in_threadpool(read_feed, engine, after, partner.partner_id, system, limit)
        left = deadline - time.monotonic()
        if page.items or left <= 0 or signal is None:
            break
        after = page.cursor  # what committed meanwhile concerned nobody: keep the place
        await signal.wait_after(generation, left)
    etag = _etag(partner.partner_id, system.value, limit, cursor, page)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", **VARY}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = orjson.dumps(
        {
            "coord": system.value,
            "cursor": page.cursor,
            "head_seq": page.head_seq,
            "more": page.more,
            "items": page.items,
        }
    )
    if accepts_gzip(request) and len(body) > 512:
        return Response(
            gzip_bytes(body), media_type="application/json", headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(body, media_type="application/json", headers=headers)
