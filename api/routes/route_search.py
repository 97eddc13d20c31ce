"""Along-route search: the stations of a corridor around a route, ordered along it (listing.route_list)."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from fastapi import APIRouter, Request
from starlette.responses import Response

from api.checked_route import CheckedRoute
from api.driver_identity import DRIVER_OPTIONAL, DriverDep
from api.live_changes import BEHIND_HEADER_DOC
from api.pricing_schemas import InvalidFill
from api.problems import problem_responses
from api.query_string import ParameterErrors
from api.route_render import route_body
from api.route_schemas import EncodedPolyline, RoutePage, RouteSearch
from api.services import services_of
from geo import coords, route_cache
from geo.brands import resolve_brands
from geo.corridor import CorridorQuery
from geo.errors import UnknownName
from geo.grades import GRADE_BITS, normalize_grade
from geo.route import Route
from listing import route_list
from pricing.fills import DEFAULT_FILL_AMOUNT, FillMode, FillRequest
from pricing.money import Money

router = APIRouter(prefix="/v1/route", tags=["stations"], route_class=CheckedRoute)
DEFAULT_COLUMN_GRADE = "92"
ROUTE_PROBLEMS = {
    400: ["invalid-route", "invalid-search", "invalid-fill", "unknown-grade", "unknown-brand"],
    401: ["invalid-driver-token"],
    503: ["index-not-ready", "prices-not-ready"],
}


@router.post(
    "/stations",
    operation_id="routeStations",
    summary="Stations along a route, in order along it, with the detour each costs (exact)",
    response_model=None,
    responses={
        200: {"model": RoutePage, "headers": BEHIND_HEADER_DOC},
        **problem_responses(ROUTE_PROBLEMS, body=True),
    },
    openapi_extra=DRIVER_OPTIONAL,
)
async def route_stations(body: RouteSearch, request: Request, driver_id: DriverDep) -> Response:
    coord = coords.CoordSystem.parse(body.coord)
    route = wgs84_route(body, coord)
    services = services_of(request)
    ask = route_ask(body, route, driver_id, services.lists.index.snapshot.brands)
    now = services.clock.now()
    found = await route_list.along_route(services.lists, ask, now)
    page = route_body(found, coord, route, ask, now)
    changes = services.changes
    return Response(page, media_type="application/json", headers=changes.behind_header() if changes else None)


def wgs84_route(body: RouteSearch, coord: coords.CoordSystem) -> Route:
    """The route's vertices brought to WGS-84 (the edge: everything below is WGS-84)."""
    given = body.route
    if isinstance(given, EncodedPolyline):
        return route_cache.polyline_route(given.polyline, given.precision, coord)
    points = np.asarray([p[:2] for p in given.coordinates], dtype=np.float64)
    return route_cache.route_in(points[:, 0], points[:, 1], coord)


def route_ask(
    body: RouteSearch, route: Route, driver_id: str | None, catalogue_brands: Collection[str] = ()
) -> route_list.RouteAsk:
    grade = normalize_grade(body.grade) if body.grade else None
    try:
        brands = resolve_brands(body.brand, catalogue_brands) if body.brand else None
    except UnknownName as exc:
        error = {"in": "body", "name": "brand", "message": str(exc)}
        raise ParameterErrors([error], slug="unknown-brand", title="Unknown brand", detail=str(exc)) from None
    corridor = CorridorQuery(
        route=route,
        corridor_m=body.corridor_m,
        grade_bit=GRADE_BITS[grade] if grade else None,
        brands=brands,
        open_now=body.open_now,
    )
    try:
        fill = body.fill.request() if body.fill else FillRequest.by_amount(Money.of(DEFAULT_FILL_AMOUNT))
        if fill.mode is FillMode.FILL_UP:
            fill.estimated_litres()  # a full tank is refused here, not while ranking
    except ValueError as exc:
        raise InvalidFill(str(exc)) from None
    return route_list.RouteAsk(
        corridor=corridor,
        grade=grade or DEFAULT_COLUMN_GRADE,
        fill=fill,
        sort=body.sort,
        limit=body.limit,
        after=route_list.decode_cursor(body.cursor) if body.cursor and body.sort == "along" else None,
        consumption_l_per_100km=body.consumption_l_per_100km,
        driver_id=driver_id,
        prices=body.prices,
        wait=body.wait,
    )
