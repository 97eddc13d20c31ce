"""Waits for partners (scope waits:read): the current expected wait of the stations that report their
forecourt, paged by station id, and with `reported_since` only those whose forecourt reported after that
moment, i.e. the waits that moved since a partner's last sweep.

Waits are estimates of this worker's book (occupancy/), not rows of the change log, so this is not the
gap-free change feed: every answer carries current values (taking one twice is harmless), and the
stations are chosen by event time, which every worker shares once its tail has caught up. A partner
sweeps with `reported_since` set to its previous sweep's `as_of` less a margin for late deliveries
(the ingest accepts events up to minutes late; 120 s covers what the demo feed and the evaluation send).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from api.auth_partner import partner_with
from api.checked_route import CheckedRoute
from api.grade_text import OptionalGradeQuery
from api.instants import AS_OF_QUERY
from api.occupancy_answers import WaitEstimate
from api.occupancy_json import iso, parse_as_of, wait_json
from api.occupancy_live import book_of
from api.partner_answers import licence_fields
from api.partner_params import PARTNER_PROBLEMS, Partner
from api.problems import merge, problem_responses
from api.query_string import ParameterErrors
from api.services import services_of
from api.strict_types import MAX_ID
from geo.grades import normalize_grade

router = APIRouter(prefix="/v1/partner", tags=["partner"], route_class=CheckedRoute)
WaitsReader = Annotated[Partner, Depends(partner_with("waits:read"))]
DEFAULT_GRADE = "92"
MAX_LIMIT = 200


class PartnerWaitsPage(BaseModel):
    grade: str = Field(description="the grade every wait is for")
    as_of: str = Field(description="the moment of the estimates (RFC 3339): your next sweep's base")
    reported_since: str | None = Field(description="the filter this page was taken with; null: none")
    items: list[WaitEstimate] = Field(
        description="one per station in station id order; a station not selling the grade is left out"
    )
    next_after: int | None = Field(description="pass as `after` for the next page; null: this was the last")
    licence: str
    attribution: str


@router.get(
    "/waits",
    operation_id="partnerWaits",
    summary="Current waits of the stations that report their forecourt, or of those that reported lately",
    description=__doc__,
    response_model=PartnerWaitsPage,
    responses=problem_responses(merge(PARTNER_PROBLEMS, {400: ["invalid-parameter", "unknown-grade"]})),
)
async def partner_waits(
    request: Request,
    response: Response,
    partner: WaitsReader,
    grade: OptionalGradeQuery = None,
    reported_since: Annotated[
        str | None,
        Query(
            description="RFC 3339 time with offset: only stations whose latest forecourt report is later",
            json_schema_extra=AS_OF_QUERY,
            examples=["2026-11-22T08:00:00+08:00"],
        ),
    ] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the last page's `next_after`")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="stations per page")] = 100,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "private, no-store"
    code = normalize_grade(grade if grade is not None else DEFAULT_GRADE)
    services = services_of(request)
    now = services.clock.now()
    try:
        since = None if reported_since is None else parse_as_of(reported_since, now)
    except ParameterErrors as exc:
        raise ParameterErrors([{**e, "name": "reported_since"} for e in exc.errors]) from None
    as_of = float(int(now.timestamp()))  # whole seconds: the answer is what /wait gives at the `as_of` shown
    book = book_of(services.occupancy)
    items: list[dict[str, Any]] = []
    cursor = after
    # One id more than needed says whether another page follows; stations not selling the grade are
    # skipped, so a page may take a few rounds to fill.
    while True:
        need = limit - len(items)
        ids = book.reported_stations(cursor, since, need + 1)
        more = len(ids) > need
        for station_id in ids[:need]:
            est = book.wait(station_id, code, as_of)
            if est is not None:
                items.append(wait_json(est))
            cursor = station_id
        if not more or len(items) == limit:
            break
    return {
        "grade": code,
        "as_of": iso(as_of),
        "reported_since": iso(since),
        "items": items,
        "next_after": cursor if more else None,
        **licence_fields(services.settings),
    }
