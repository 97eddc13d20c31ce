"""Partners' own POI ids on stations: attach, remove, look a station up by one. Each partner sees only
its own ids (in these answers, the snapshot and the feed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from api.checked_route import CheckedRoute
from api.partner_params import PROBLEMS, CoordQuery, StationsReader, also_needs, coord_for
from api.partner_schemas import POI_ID_PATTERN, PartnerStationAnswer, PoiIdAnswer, PoiIdBody
from api.problems import merge, problem_responses
from api.services import services_of
from api.strict_types import MAX_ID
from partners import poi

router = APIRouter(prefix="/v1/partner/stations", tags=["partner"], route_class=CheckedRoute)
StationId = Annotated[int, Path(ge=1, le=MAX_ID, description="station id")]
PoiId = Annotated[str, Path(pattern=POI_ID_PATTERN, description="your id of the station")]


@router.put(
    "/{station_id}/poi-id",
    operation_id="putPartnerPoiId",
    summary="Attach your own id to a station (replaces your previous id of it)",
    response_model=PoiIdAnswer,
    responses=problem_responses(
        merge(PROBLEMS, {404: ["station-not-found"], 409: ["poi-id-taken"]}), body=True
    ),
)
async def put_poi_id(
    request: Request, partner: StationsReader, station_id: StationId, body: PoiIdBody
) -> dict[str, Any]:
    engine = services_of(request).engine

    def write() -> None:
        with engine.begin() as conn:
            poi.attach(conn, partner.partner_id, station_id, body.poi_id)

    await run_in_threadpool(write)
    return {"station_id": station_id, "poi_id": body.poi_id}


@router.delete(
    "/{station_id}/poi-id",
    operation_id="deletePartnerPoiId",
    summary="Remove your id from a station",
    response_model=PoiIdAnswer,
    responses=problem_responses(merge(PROBLEMS, {404: ["poi-id-not-found"]})),
)
async def delete_poi_id(request: Request, partner: StationsReader, station_id: StationId) -> dict[str, Any]:
    engine = services_of(request).engine

    def write() -> None:
        with engine.begin() as conn:
            poi.detach(conn, partner.partner_id, station_id)

    await run_in_threadpool(write)
    return {"station_id": station_id, "poi_id": None}


@router.get(
    "/by-poi/{poi_id}",
    operation_id="partnerStationByPoiId",
    summary="The station you know by this id, with its current prices",
    response_model=PartnerStationAnswer,
    responses=problem_responses(merge(PROBLEMS, {404: ["poi-id-not-found"]})),
)
async def station_by_poi(
    request: Request, partner: StationsReader, poi_id: PoiId, coord: CoordQuery = None
) -> dict[str, Any]:
    also_needs(partner, "prices:read")
    system = coord_for(partner, coord)
    engine = services_of(request).engine

    def read() -> dict[str, Any]:
        with engine.connect() as conn:
            return poi.station_by_poi(conn, partner.partner_id, poi_id, system)

    return {"coord": system.value, "station": await run_in_threadpool(read)}
