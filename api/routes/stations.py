"""One station in full (database); nearby search is api/routes/nearby.py."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from api.deps import CoordDep, EngineDep, clock_of
from api.grade_text import OptionalGradeQuery
from api.occupancy_detail import occupancy_detail
from api.problems import problem_responses
from api.schemas import StationDetail
from api.services import services_of
from api.strict_types import MAX_ID
from geo import cells, coords, repository
from geo.brands import brand_name
from geo.grades import normalize_grade
from geo.hours import OpeningHours

router = APIRouter(prefix="/v1/stations", tags=["stations"])


@router.get(
    "/{station_id}",
    operation_id="getStation",
    summary="One station in full: place, hours, services, fueling positions and nozzles",
    response_model=StationDetail,
    responses=problem_responses({400: ["invalid-coordinates", "unknown-grade"], 404: ["station-not-found"]}),
)
async def station(
    request: Request,
    engine: EngineDep,
    coord: CoordDep,
    station_id: Annotated[int, Path(ge=1, le=MAX_ID, description="station id")],
    grade: OptionalGradeQuery = None,
) -> dict[str, Any]:
    row = await run_in_threadpool(repository.station_detail, engine, station_id)
    live = await occupancy_detail(
        services_of(request), station_id, None if grade is None else normalize_grade(grade)
    )
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
