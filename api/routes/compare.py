"""Price comparison around a point: stations ranked by what this driver pays, or by total cost
(listing.lists.compare)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.driver_identity import DRIVER_OPTIONAL_PLAIN, driver_of
from api.list_params import CompareParams, parse_compare
from api.list_schemas import ComparePage
from api.live_changes import BEHIND_HEADER_DOC
from api.plain_route import PlainRoute
from api.pricing_schemas import Fill, FillUp, InvalidFill
from api.problems import problem_responses
from api.query_string import openapi_parameters, query_dict, repeated
from api.render import compare_body
from api.search_filters import REGION_PROBLEMS, SEARCH_PROBLEMS, search_filters
from api.services import services_of
from geo import coords
from geo.grades import GRADE_BITS, normalize_grade
from geo.nearby import NearbyQuery
from listing import lists
from listing.pages import decode_ranked
from pricing.fills import DEFAULT_FILL_AMOUNT, FillRequest
from pricing.money import Money

router = APIRouter(tags=["prices"], route_class=PlainRoute)
COMPARE_PROBLEMS = {
    400: [
        "invalid-parameter",
        "invalid-coordinates",
        "invalid-search",
        "unknown-grade",
        "invalid-fill",
        *SEARCH_PROBLEMS,
    ],
    401: ["invalid-driver-token"],
    404: [*REGION_PROBLEMS],
    503: ["index-not-ready", "prices-not-ready"],
}


@router.get(
    "/v1/prices/compare",
    operation_id="comparePrices",
    summary="Stations around a point ranked by what this driver pays (or by total cost with the detour)",
    response_model=None,
    responses={
        200: {"model": ComparePage, "headers": BEHIND_HEADER_DOC},
        **problem_responses(COMPARE_PROBLEMS),
    },
    openapi_extra={
        "parameters": openapi_parameters(CompareParams.model_json_schema(), explode=["pay"]),
        **DRIVER_OPTIONAL_PLAIN,  # the driver (optional): their discounts
    },
)
async def compare(request: Request) -> Response:
    raw_query: bytes = request.scope["query_string"]
    params = parse_compare(query_dict(raw_query), repeated(raw_query, "pay"))
    coord = coords.CoordSystem.parse(params.coord)
    grade = normalize_grade(params.grade)
    fill = _fill(params)
    driver_id = driver_of(request)
    lon, lat = coords.to_wgs84(params.lon, params.lat, coord)
    services = services_of(request)
    filters = search_filters(raw_query, params.filter_values, services.lists.index.snapshot)
    ask = lists.CompareAsk(
        disk=NearbyQuery(
            lon=lon, lat=lat, radius_m=params.radius_m, limit=1, grade_bit=GRADE_BITS[grade], **filters
        ),
        grade=grade,
        fill=fill,
        sort=params.sort,
        limit=params.limit,
        include_stale=params.include_stale,
        consumption_l_per_100km=params.consumption_l_per_100km,
        road_factor=params.road_factor,
        channels=frozenset(params.pay),
        driver_id=driver_id,
        wait=params.wants_wait,
        after=decode_ranked(params.cursor, f"compare:{params.sort}") if params.cursor else None,
    )
    now = services.clock.now()
    found = await lists.compare(services.lists, ask, now)
    body = compare_body(found, coord, (params.lon, params.lat), grade, params.radius_m, params.sort, now)
    changes = services.changes
    return Response(body, media_type="application/json", headers=changes.behind_header() if changes else None)


def _fill(params: CompareParams) -> FillRequest:
    tank, level = params.tank_capacity, params.level
    if params.amount is None and params.litres is None and tank is None and level is None:
        return FillRequest.by_amount(Money.of(DEFAULT_FILL_AMOUNT))  # none given: as nearby's effective
    try:
        fill = Fill(
            by_amount=params.amount,
            by_litres=params.litres,
            fill_up=FillUp(tank_capacity=tank, level=level or Decimal(0)) if tank is not None else None,
        )
    except ValueError as exc:
        raise InvalidFill("give exactly one of amount, litres or tank_capacity (with level)") from exc
    try:
        return fill.request()
    except ValueError as exc:
        raise InvalidFill(str(exc)) from None
