"""The map page's basemap: province outlines in the system the page's tiles are drawn in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.checked_route import CheckedRoute
from api.coord_text import COORD_PATTERN
from api.map_schemas import ProvinceOutlines
from api.problems import problem_responses
from api.services import services_of
from geo.coords import CoordSystem

router = APIRouter(tags=["map"], route_class=CheckedRoute)
CACHE_CONTROL = "public, max-age=86400"  # changes only when the package does


@router.get(
    "/v1/map/provinces",
    operation_id="mapProvinces",
    summary="Province outlines of China (GeoJSON, simplified), the map page's basemap, in `coord`",
    description="From DCW-GMT (the Digital Chart of the World as GMT packages it, LGPL-3+), stored in "
    "WGS-84 and converted on the way out, so that they line up with the tiles of the same `coord`.",
    response_model=None,
    responses={
        200: {"model": ProvinceOutlines, "headers": {"Cache-Control": {"schema": {"type": "string"}}}},
        **problem_responses({400: ["invalid-coordinates"], 503: ["basemap-not-installed"]}),
    },
)
async def map_provinces(
    request: Request,
    coord: Annotated[
        str,
        Query(
            description="system of the vertices: gcj02 (as the tiles, by default), bd09, wgs84",
            json_schema_extra={"pattern": COORD_PATTERN},
        ),
    ] = "gcj02",
) -> Response:
    system = CoordSystem.parse(coord)
    body = await run_in_threadpool(services_of(request).provinces.body, system)
    return Response(body, media_type="application/json", headers={"Cache-Control": CACHE_CONTROL})
