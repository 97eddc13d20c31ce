"""Dependency aliases so route functions stay short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine

from api.coord_text import COORD_PATTERN
from api.services import ServicesDep, services_of
from geo.coords import CoordSystem
from geo.live_index import LiveIndex
from timekeeping.clock import Clock


# Parts of the one services dependency (api/services.py), for routes that need only one of them.
async def _engine(services: ServicesDep) -> Engine:
    return services.engine


async def _index(services: ServicesDep) -> LiveIndex:
    return services.index


def clock_of(request: Request) -> Clock:
    """The app's clock (create_app's `clock`): where routes read the time."""
    return services_of(request).clock


async def _clock(services: ServicesDep) -> Clock:
    return services.clock


async def _coord(
    coord: Annotated[
        str,
        Query(
            description="Coordinate system of the coordinates in the request and the response: "
            "wgs84 (GPS), gcj02 (Amap, Tencent, WeChat), bd09 (Baidu).",
            json_schema_extra={"pattern": COORD_PATTERN},  # documented; parse answers invalid-coordinates
            examples=["gcj02"],
        ),
    ] = "wgs84",
) -> CoordSystem:
    return CoordSystem.parse(coord)


EngineDep = Annotated[Engine, Depends(_engine)]
IndexDep = Annotated[LiveIndex, Depends(_index)]
CoordDep = Annotated[CoordSystem, Depends(_coord)]
ClockDep = Annotated[Clock, Depends(_clock)]
