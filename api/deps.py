"""Dependency aliases so route functions stay short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine

from geo.coords import CoordSystem
from geo.live_index import LiveIndex
from timekeeping.clock import Clock


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _index(request: Request) -> LiveIndex:
    index: LiveIndex = request.app.state.index
    return index


def clock_of(request: Request) -> Clock:
    """The app's clock (create_app's `clock`): where routes read the time."""
    clock: Clock = request.app.state.clock
    return clock


async def _clock(request: Request) -> Clock:
    return clock_of(request)


async def _coord(
    coord: Annotated[
        str,
        Query(
            description="Coordinate system of the coordinates in the request and the response: "
            "wgs84 (GPS), gcj02 (Amap, Tencent, WeChat), bd09 (Baidu)."
        ),
    ] = "wgs84",
) -> CoordSystem:
    return CoordSystem.parse(coord)


EngineDep = Annotated[Engine, Depends(_engine)]
IndexDep = Annotated[LiveIndex, Depends(_index)]
CoordDep = Annotated[CoordSystem, Depends(_coord)]
ClockDep = Annotated[Clock, Depends(_clock)]
