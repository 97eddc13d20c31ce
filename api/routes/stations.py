"""Station routes: nearby search (in-memory, exact) and one station in full (database)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import CoordDep, EngineDep, clock_of
from api.effective_columns import effective_members
from api.errors import PROBLEM_RESPONSES
from api.occupancy_columns import by_wait, occupancy_detail, wait_columns, wait_members
from api.price_columns import by_price, price_members
from api.query_params import NEARBY_PARAMETERS, parse_nearby, query_dict
from api.render import nearby_body
from api.schemas import NearbyPage, StationDetail
from geo import cells, coords, repository
from geo.brands import brand_code, brand_name
from geo.grades import GRADE_BITS, normalize_grade
from geo.hours import OpeningHours
from geo.live_index import LiveIndex
from geo.nearby import (
    NearbyQuery,
    NearbyResult,
    decode_cursor,
    nearest_stations,
    stations_within,
)

router = APIRouter(prefix="/v1/stations", tags=["stations"])


@router.get(
    "/nearby",
    summary="Stations around a point, nearest first (exact)",
    response_model=None,
    responses={200: {"model": NearbyPage}, **PROBLEM_RESPONSES},
    openapi_extra={"parameters": NEARBY_PARAMETERS},
)
async def nearby(request: Request) -> Response:
    params = parse_nearby(query_dict(request.scope["query_string"]))
    index: LiveIndex = request.app.state.index
    lon, lat, coord = params.lon, params.lat, params.coord
    wlon, wlat = coords.to_wgs84(lon, lat, coord)
    query = NearbyQuery(
        lon=wlon,
        lat=wlat,
        radius_m=params.radius_m,
        limit=params.limit,
        grade_bit=GRADE_BITS[normalize_grade(params.grade)] if params.grade else None,
        brand=brand_code(params.brand) if params.brand else None,
        open_now=params.open_now,
        after=decode_cursor(params.cursor) if params.cursor else None,
    )
    snap = index.snapshot
    now = clock_of(request).now()
    open_state = index.open_state(now)
    if params.sort == "price":
        within, chords = stations_within(snap, query, open_state)
        book = request.app.state.prices.book(snap.version)
        ranked, ranked_chords = by_price(book, query_grade(params.grade), within, chords, now, params.limit)
        result = NearbyResult(ranked, ranked_chords, None)
    elif params.sort == "wait":
        within, chords = stations_within(snap, query, open_state)
        ranked, ranked_chords = by_wait(
            request, snap.ids, normalize_grade(params.grade or ""), within, chords, params.limit
        )
        result = NearbyResult(ranked, ranked_chords, None)
    else:
        result = nearest_stations(snap, query, open_state)
    if params.effective:
        result, effective = await effective_members(request, snap, params, query, result, open_state, now)
    extras = None
    if params.prices:
        extras = price_members(request.app.state.prices.book(snap.version), result.positions, now)
    if params.effective:
        extras = [a + b for a, b in zip(extras or [b""] * len(effective), effective, strict=True)]
    if params.wait:
        waits = wait_members(
            *wait_columns(request, snap.ids[result.positions], normalize_grade(params.grade or ""))
        )
        extras = [a + b for a, b in zip(extras or [b""] * len(waits), waits, strict=True)]
    body = nearby_body(snap, result, coord, (lon, lat), params.radius_m, open_state, now, extras)
    return Response(body, media_type="application/json")


def query_grade(grade: str | None) -> str | None:
    return normalize_grade(grade) if grade else None


@router.get(
    "/{station_id}",
    summary="One station in full: place, hours, services, fueling positions and nozzles",
    response_model=StationDetail,
    responses=PROBLEM_RESPONSES,
)
async def station(
    request: Request,
    engine: EngineDep,
    coord: CoordDep,
    station_id: Annotated[int, Path(ge=1, le=2**63 - 1, description="station id")],
    grade: Annotated[str | None, Query(description="suggest a free position serving this grade")] = None,
) -> dict[str, Any]:
    row = await run_in_threadpool(repository.station_detail, engine, station_id)
    live = await occupancy_detail(request, station_id, normalize_grade(grade) if grade else None)
    lon, lat = coords.from_wgs84(row["lon"], row["lat"], coord)
    hours = OpeningHours.from_json(row["opening_hours"]) if row["opening_hours"] is not None else None
    if row["status"] != "open":
        open_now: bool | None = False
    elif hours is None:
        open_now = None
    else:
        open_now = hours.is_open(clock_of(request).now().astimezone(ZoneInfo(row["timezone"])))
    return {
        "id": row["id"],
        "coord": coord.value,
        "name": row["name"],
        "brand": row["brand"],
        "brand_name": brand_name(row["brand"]),
        "address": row["address"],
        "province": row["province"],
        "city": row["city"],
        "county": row["county"],
        "adcode": row["adcode"],
        "location": {"lon": lon, "lat": lat},
        "h3_cell": cells.to_hex(row["h3_r9"]),
        "timezone": row["timezone"],
        "opening_hours": row["opening_hours"],
        "open_now": open_now,
        "services": row["services"],
        "grades": row["grades"],
        "status": row["status"],
        "identifiers": row["identifiers"],
        "positions": row["positions"],
        "updated_at": row["updated_at"].isoformat(),
        **live,
    }
