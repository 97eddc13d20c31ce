"""Dependency aliases so route functions stay short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Engine

from geo.coords import CoordSystem
from geo.live_index import LiveIndex


async def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _index(request: Request) -> LiveIndex:
    index: LiveIndex = request.app.state.index
    return index


async def _coord(
    coord: Annotated[
        str,
        Query(description="Coordinate system of the coordinates in the request and the response: "
              "wgs84 (GPS), gcj02 (Amap, Tencent, WeChat), bd09 (Baidu)."),
    ] = "wgs84",
) -> CoordSystem:
    return CoordSystem.parse(coord)


EngineDep = Annotated[Engine, Depends(_engine)]
IndexDep = Annotated[LiveIndex, Depends(_index)]
CoordDep = Annotated[CoordSystem, Depends(_coord)]
