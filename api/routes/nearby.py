"""Nearby search: stations around a point, from the worker's in-memory index (listing.lists.nearby)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.driver_identity import DRIVER_OPTIONAL_PLAIN, driver_of
from api.list_params import NearbyParams, parse_nearby
from api.live_changes import BEHIND_HEADER_DOC
from api.map_params import ViewportParams
from api.plain_route import PlainRoute
from api.problems import problem_responses
from api.query_string import ParameterErrors, openapi_parameters, query_dict
from api.render import nearby_body
from api.schemas import NearbyPage
from api.search_filters import REGION_PROBLEMS, SEARCH_PROBLEMS, search_filters
from api.services import services_of
from geo import coords
from geo.grades import GRADE_BITS, normalize_grade
from geo.nearby import NearbyQuery, decode_cursor
from listing import lists
from listing.pages import decode_ranked
from pricing.fills import DEFAULT_FILL_AMOUNT, FillRequest
from pricing.money import Money

router = APIRouter(prefix="/v1/stations", tags=["stations"], route_class=PlainRoute)
# The grade of sort=price, effective and wait when none is asked for: 92#, the grade most cars take
# (and the mini-program's default); the list is then not filtered by grade.
DEFAULT_COLUMN_GRADE = "92"
NEARBY_PROBLEMS = {
    400: ["invalid-parameter", "invalid-coordinates", "invalid-search", "unknown-grade", *SEARCH_PROBLEMS],
    401: ["invalid-driver-token"],
    404: [*REGION_PROBLEMS],
    503: ["index-not-ready", "prices-not-ready"],
}


@router.get(
    "/nearby",
    operation_id="nearbyStations",
    summary="Stations around a point, nearest first (exact)",
    response_model=None,
    responses={
        200: {"model": NearbyPage, "headers": BEHIND_HEADER_DOC},
        **problem_responses(NEARBY_PROBLEMS),
    },
    openapi_extra={
        "parameters": openapi_parameters(NearbyParams.model_json_schema()),
        **DRIVER_OPTIONAL_PLAIN,  # the driver (optional): what they pay (effective=true, sort=effective)
    },
)
async def nearby(request: Request) -> Response:
    # Only `request`: no dependency to solve (measured: ServicesDep cost ~60-90 µs a request here).
    raw_query: bytes = request.scope["query_string"]
    params = parse_nearby(query_dict(raw_query))
    coord = coords.CoordSystem.parse(params.coord)
    services = services_of(request)
    filters = search_filters(raw_query, params.filter_values, services.lists.index.snapshot)
    ask = nearby_ask(params, coord, driver_of(request), filters, services.settings.map_app_key)
    now = services.clock.now()
    found = await lists.nearby(services.lists, ask, now)
    body = nearby_body(found, coord, (params.lon, params.lat), params.radius_m, now)
    changes = services.changes
    return Response(body, media_type="application/json", headers=changes.behind_header() if changes else None)


def nearby_ask(
    params: NearbyParams,
    coord: coords.CoordSystem,
    driver_id: str | None,
    filters: dict[str, Any],
    app_key: str = "",
) -> lists.NearbyAsk:
    lon, lat = coords.to_wgs84(params.lon, params.lat, coord)
    grade = normalize_grade(params.grade) if params.grade else None
    disk = NearbyQuery(
        lon=lon,
        lat=lat,
        radius_m=params.radius_m,
        limit=params.limit,
        grade_bit=GRADE_BITS[grade] if grade else None,
        open_now=params.open_now,
        after=decode_cursor(params.cursor) if params.cursor and params.sort == "distance" else None,
        **filters,
    )
    return lists.NearbyAsk(
        disk=disk,
        sort=params.sort,
        grade=grade or DEFAULT_COLUMN_GRADE,
        prices=params.prices,
        fill=fill_of(params) if params.wants_effective else None,
        driver_id=driver_id,
        wait=params.wants_wait,
        nav_app=app_key if params.nav else None,
        ranked_after=decode_ranked(params.cursor, params.sort)
        if params.cursor and params.sort != "distance"
        else None,
    )


def fill_of(params: NearbyParams | ViewportParams) -> FillRequest:
    try:
        if params.litres is not None:
            return FillRequest.by_litres(params.litres)
        return FillRequest.by_amount(Money.of(params.amount or DEFAULT_FILL_AMOUNT))
    except ValueError as exc:
        raise ParameterErrors([{"in": "query", "name": "amount", "message": str(exc)}]) from None
