"""Map surfaces: the viewport (stations or clusters in a box), vector tiles and their TileJSON."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from api.driver_identity import DRIVER_OPTIONAL_PLAIN, driver_of
from api.live_changes import BEHIND_HEADER_DOC
from api.map_params import (
    TILE_PATH_PARAMETERS,
    TileParams,
    ViewportParams,
    default_zoom,
    parse_tile_query,
    parse_viewport,
    tile_address,
)
from api.map_render import viewport_body
from api.map_schemas import TileJson, VectorLayer, ViewportPage
from api.plain_route import PlainRoute
from api.problems import problem_responses
from api.query_string import openapi_parameters, query_dict
from api.routes.nearby import DEFAULT_COLUMN_GRADE, fill_of
from api.search_filters import REGION_PROBLEMS, SEARCH_PROBLEMS, search_filters
from api.services import services_of
from geo import coords
from geo.errors import TileNotFound
from geo.grades import GRADE_BITS, normalize_grade
from geo.tile_cache import tile_etag
from geo.tiles import CLUSTERS_LAYER, MAX_ZOOM, POINTS_FROM_ZOOM, STATIONS_LAYER, render_tile
from geo.viewport import Box, Filters
from listing.viewport import ViewportAsk, viewport

router = APIRouter(tags=["map"], route_class=PlainRoute)
MVT = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "public, max-age=300"  # tiles change only with the catalogue; revalidate with the ETag
VIEWPORT_PROBLEMS = {
    400: ["invalid-parameter", "invalid-coordinates", "invalid-search", "unknown-grade", *SEARCH_PROBLEMS],
    401: ["invalid-driver-token"],
    404: [*REGION_PROBLEMS],
    503: ["index-not-ready", "prices-not-ready"],
}
TILE_HEADERS = {
    "ETag": {
        "description": "strong; a hash of the tile's bytes",
        "required": True,
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": CACHE_CONTROL, "required": True, "schema": {"type": "string"}},
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags of copies the client holds: 304 when the tile's is among them",
    "schema": {"type": "string"},
}


@router.get(
    "/v1/stations",
    operation_id="viewportStations",
    summary="Stations in a map's box, or their clusters when more than 200 are inside (exact)",
    response_model=None,
    responses={
        200: {"model": ViewportPage, "headers": BEHIND_HEADER_DOC},
        **problem_responses(VIEWPORT_PROBLEMS),
    },
    openapi_extra={
        "parameters": openapi_parameters(ViewportParams.model_json_schema()),
        **DRIVER_OPTIONAL_PLAIN,
    },
)
async def viewport_stations(request: Request) -> Response:
    raw_query: bytes = request.scope["query_string"]
    params = parse_viewport(query_dict(raw_query))
    coord = coords.CoordSystem.parse(params.coord)
    box = Box(*params.bbox, coord)
    zoom = params.zoom if params.zoom is not None else default_zoom(box.west, box.east)
    services = services_of(request)
    snap = services.lists.index.snapshot
    grade = normalize_grade(params.grade) if params.grade else None
    ask = ViewportAsk(
        box=box,
        zoom=zoom,
        filters=Filters(
            grade_bit=GRADE_BITS[grade] if grade else None,
            open_now=params.open_now,
            **search_filters(raw_query, params.filter_values, snap),
        ),
        grade=grade or DEFAULT_COLUMN_GRADE,
        prices=params.prices,
        fill=fill_of(params) if params.effective else None,
        driver_id=driver_of(request),
        wait=params.wait,
        nav_app=services.settings.map_app_key if params.nav else None,
    )
    now = services.clock.now()
    found = await viewport(services.lists, ask, now)
    changes = services.changes
    return Response(
        viewport_body(found, box, zoom, now),
        media_type="application/json",
        headers=changes.behind_header() if changes else None,
    )


@router.get(
    "/v1/tiles/{z}/{x}/{y}.mvt",
    operation_id="stationTile",
    summary="A vector tile (Mapbox Vector Tile 2.1) of the stations, web-mercator in `coord`",
    description=(
        f"Layer `{STATIONS_LAYER}` from zoom {POINTS_FROM_ZOOM} (a point per station: id, brand, grades), "
        f"layer `{CLUSTERS_LAYER}` below (count, most common brand, grades). An empty body is an empty tile. "
        "No prices or waits: they change faster than tiles are cached (use the viewport or nearby)."
    ),
    response_model=None,
    responses={
        200: {
            "description": "the tile",
            "headers": TILE_HEADERS,
            "content": {MVT: {"schema": {"type": "string", "format": "binary"}, "example": ""}},
        },
        304: {"description": "the copy named in If-None-Match is current", "headers": TILE_HEADERS},
        **problem_responses(
            {
                400: ["invalid-parameter", "invalid-coordinates"],
                404: ["tile-not-found"],
                503: ["index-not-ready"],
            }
        ),
    },
    openapi_extra={
        "parameters": [
            *TILE_PATH_PARAMETERS,
            *openapi_parameters(TileParams.model_json_schema()),
            IF_NONE_MATCH,
        ]
    },
)
async def station_tile(request: Request) -> Response:
    z, x, y = tile_address(request.path_params)
    coord = coords.CoordSystem.parse(parse_tile_query(query_dict(request.scope["query_string"])).coord)
    if x >= 1 << z or y >= 1 << z:
        raise TileNotFound(f"zoom {z} has tiles 0..{(1 << z) - 1} in x and y")
    services = services_of(request)
    snap = services.index.snapshot
    tile = services.lists.tiles.get(
        snap.version, (coord.value, z, x, y), lambda: render_tile(snap, coord, z, x, y)
    )
    headers = {"ETag": tile.etag, "Cache-Control": CACHE_CONTROL}
    if _matches(request.headers.get("if-none-match"), tile.etag):
        return Response(status_code=304, headers=headers)
    return Response(tile.body, media_type=MVT, headers=headers)


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match (RFC 9110 13.1.2: weak comparison; `*` matches any current tile)."""
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


@router.get(
    "/v1/tiles.json",
    operation_id="stationTileJson",
    summary="TileJSON 3.0.0 describing the station tiles in `coord`",
    response_model=None,
    responses={
        200: {"model": TileJson},
        304: {"description": "the copy named in If-None-Match is current"},
        **problem_responses({400: ["invalid-parameter", "invalid-coordinates"]}),
    },
    openapi_extra={"parameters": [*openapi_parameters(TileParams.model_json_schema()), IF_NONE_MATCH]},
)
async def station_tilejson(request: Request) -> Response:
    coord = coords.CoordSystem.parse(parse_tile_query(query_dict(request.scope["query_string"])).coord)
    base = str(request.base_url).rstrip("/")
    document = TileJson(
        tilejson="3.0.0",
        name="stations",
        description=f"Fuel stations, web-mercator tiles in {coord.value}",
        version="1.0.0",
        attribution="Fuel station catalogue",
        scheme="xyz",
        tiles=[f"{base}/v1/tiles/{{z}}/{{x}}/{{y}}.mvt?coord={coord.value}"],
        minzoom=0,
        maxzoom=MAX_ZOOM,
        bounds=[73.0, 17.0, 136.0, 54.0],
        center=[104.0, 35.0, 4.0],
        coord=coord.value,
        vector_layers=[
            VectorLayer(
                id=STATIONS_LAYER,
                description="one point per station",
                minzoom=POINTS_FROM_ZOOM,
                maxzoom=MAX_ZOOM,
                fields={"id": "Number", "brand": "String", "grades": "String"},
            ),
            VectorLayer(
                id=CLUSTERS_LAYER,
                description="stations grouped on 64-pixel squares",
                minzoom=0,
                maxzoom=POINTS_FROM_ZOOM - 1,
                fields={"count": "Number", "brand": "String", "grades": "String"},
            ),
        ],
    )
    body = document.model_dump_json().encode()
    etag = tile_etag(body)
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})
