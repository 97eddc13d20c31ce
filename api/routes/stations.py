"""One station in full, with what its detail screen shows (database); nearby search is
api/routes/nearby.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from api.checked_route import CheckedRoute
from api.conditional import NOT_MODIFIED, IfNoneMatch, revalidated
from api.deps import CoordDep, EngineDep, clock_of
from api.driver_identity import DRIVER_OPTIONAL, DriverDep
from api.grade_text import OptionalGradeQuery
from api.instants import instant_text
from api.problems import problem_responses
from api.schemas import StationDetail
from api.services import services_of
from api.station_detail import grade_prices, today, waits
from api.strict_types import MAX_ID
from geo import cells, coords, repository
from geo.brands import brand_name
from geo.grades import normalize_grade
from geo.hours import OpeningHours

# What changes with the instant asked, not with the station's state: left out of the ETag.
VOLATILE = [("as_of",), ("today", "local_time"), ("occupancy", "as_of")]
router = APIRouter(prefix="/v1/stations", tags=["stations"], route_class=CheckedRoute)


@router.get(
    "/{station_id}",
    operation_id="getStation",
    summary="One station in full, in one call: place, hours today, services, positions, prices per grade "
    "(the whole ladder and this driver's member price), waits per grade",
    response_model=StationDetail,
    responses=NOT_MODIFIED
    | problem_responses(
        {
            400: ["invalid-coordinates", "unknown-grade"],
            401: ["invalid-driver-token"],
            404: ["station-not-found"],
        }
    ),
    openapi_extra=DRIVER_OPTIONAL,
)
async def station(
    request: Request,
    response: Response,
    engine: EngineDep,
    coord: CoordDep,
    driver_id: DriverDep,
    station_id: Annotated[int, Path(ge=1, le=MAX_ID, description="station id")],
    grade: OptionalGradeQuery = None,
    if_none_match: Annotated[str | None, IfNoneMatch] = None,
) -> Any:
    code = None if grade is None else normalize_grade(grade)
    now = clock_of(request).now()
    row = await run_in_threadpool(repository.station_detail, engine, station_id)
    prices = await run_in_threadpool(grade_prices, engine, station_id, driver_id, now)
    grades = [p["grade"] for p in prices]
    live = await waits(services_of(request), station_id, grades)
    lon, lat = coords.from_wgs84(row["lon"], row["lat"], coord)
    hours = OpeningHours.from_json(row["opening_hours"]) if row["opening_hours"] is not None else None
    day = today(hours, row["status"], row["timezone"], now)
    suggested = next((w["suggested_position"] for w in live["waits"] if w["grade"] == code), None)
    body = {
        "id": row["id"],
        "coord": coord.value,
        "as_of": instant_text(now),
        "name": row["name"],
        "brand": row["brand"],
        "brand_name": brand_name(row["brand"]),
        "address": row["address"],
        "province": row["province"],
        "city": row["city"],
        "county": row["county"],
        "adcode": row["adcode"],
        "location": {"lon": round(lon, coords.COORD_PLACES), "lat": round(lat, coords.COORD_PLACES)},
        "h3_cell": cells.to_hex(row["h3_r9"]),
        "timezone": row["timezone"],
        "opening_hours": row["opening_hours"],
        "open_now": day["open_now"],
        "today": day,
        "services": row["services"],
        "grades": row["grades"],
        "status": row["status"],
        "identifiers": row["identifiers"],
        "positions": row["positions"],
        "updated_at": instant_text(row["updated_at"]),
        "prices": prices,
        **live,
        **({"suggested_position": suggested} if code is not None else {}),
    }
    return revalidated(request, response, body, VOLATILE) or body
