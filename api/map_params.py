"""Query models of the map routes (viewport, tiles): validated inside the route like the list routes'
(api/list_params.py), with the same filters and columns as nearby."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from api.list_params import (
    _BRAND,
    _COORD,
    _Q,
    _REGION,
    _SERVICES,
    NAV_DESCRIPTION,
    Amount,
    Brands,
    Coord,
    Flag,
    Grade,
    Keywords,
    Litres,
    Region,
    Services,
    _integer,
    _true,
    _validated,
)
from api.query_string import ParameterErrors
from geo.tiles import MAX_ZOOM

_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,17})?"
BBOX_PATTERN = f"^{_NUMBER}(,{_NUMBER}){{3}}$"
BBoxValue = tuple[float, float, float, float]


def parse_bbox(raw: object) -> BBoxValue:
    text = str(raw) if raw is not None else ""
    if not text:
        raise PydanticCustomError("missing", "Field required")
    if re.fullmatch(BBOX_PATTERN, text) is None:
        raise PydanticCustomError(
            "bbox_pattern", "Input should be minLon,minLat,maxLon,maxLat (decimal degrees)"
        )
    west, south, east, north = (float(v) for v in text.split(","))
    if not (-180.0 <= west <= east <= 180.0) or not (-90.0 <= south <= north <= 90.0):
        raise PydanticCustomError(
            "bbox_range",
            "Input should satisfy -180 <= minLon <= maxLon <= 180 and -90 <= minLat <= maxLat <= 90",
        )
    return west, south, east, north


BBox = Annotated[
    BBoxValue, PlainValidator(parse_bbox), WithJsonSchema({"type": "string", "pattern": BBOX_PATTERN})
]
_ZOOM_CHECK, _ZOOM_SCHEMA = _integer(0, MAX_ZOOM)


def _zoom(raw: object) -> int | None:
    return None if raw is None or raw == "" else int(_ZOOM_CHECK.func(raw))  # type: ignore[call-arg]


Zoom = Annotated[int | None, PlainValidator(_zoom), _ZOOM_SCHEMA]


class ViewportParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    bbox: BBox = Field(
        description="minLon,minLat,maxLon,maxLat in `coord` (west <= east: no box across the antimeridian)"
    )
    zoom: Zoom = Field(
        None,
        description=f"the map's zoom (0-{MAX_ZOOM}), which sets the cluster grid; absent: the zoom at "
        "which the box is about 1024 px wide",
    )
    coord: Coord = Field("wgs84", description=_COORD)
    grade: Grade = Field(
        None,
        description="only stations offering this grade; also the grade of effective and wait (default 92)",
    )
    brand: Brands = Field(None, description=_BRAND)
    services: Services = Field(None, description=_SERVICES)
    q: Keywords = Field(None, description=_Q)
    region: Region = Field(None, description=_REGION)
    open_now: Flag = Field(False, description="only stations open now (local time)")
    prices: Flag = Field(False, description="stations: add each station's current prices per grade")
    wait: Flag = Field(False, description="stations: add `wait_minutes` for `grade` and `wait_stale`")
    effective: Flag = Field(
        False,
        description="stations: add what the driver (optional driver token) pays for `grade` and the fill",
    )
    amount: Amount = Field(None, description="fill for effective prices, ¥ (default 300)")
    litres: Litres = Field(None, description="fill for effective prices, litres")
    nav: Flag = Field(False, description="stations: " + NAV_DESCRIPTION)

    @property
    def filter_values(self) -> dict[str, str | None]:
        return {"brand": self.brand, "services": self.services, "region": self.region, "q": self.q}


VIEWPORT_ORDER = {
    name: i
    for i, name in enumerate(
        ("bbox", "zoom", "coord", "grade", "brand", "services", "q", "region", "open_now", "prices", "wait")
        + ("effective", "amount", "litres", "nav")
    )
}


def parse_viewport(query: Mapping[str, str]) -> ViewportParams:
    data: dict[str, Any] = dict(query)
    if not _true(query.get("effective")):  # read only for effective prices
        data.pop("amount", None)
        data.pop("litres", None)
    params: ViewportParams = _validated(ViewportParams, data, VIEWPORT_ORDER, [])
    return params


def default_zoom(west: float, east: float) -> int:
    """The zoom at which the box's width fills about 1024 pixels of 256-pixel tiles."""
    width = max(east - west, 1e-9) / 360.0
    return max(0, min(MAX_ZOOM, math.floor(math.log2(4.0 / width))))


MAX_TILE_INDEX = (1 << MAX_ZOOM) - 1
TILE_PATH_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "z",
        "in": "path",
        "required": True,
        "description": f"zoom, 0-{MAX_ZOOM}",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM},
    },
    {
        "name": "x",
        "in": "path",
        "required": True,
        "description": "column, 0 <= x < 2^z (a larger one: 404 tile-not-found)",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_TILE_INDEX},
    },
    {
        "name": "y",
        "in": "path",
        "required": True,
        "description": "row from the north, 0 <= y < 2^z (a larger one: 404 tile-not-found)",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_TILE_INDEX},
    },
]


def tile_address(path: Mapping[str, str]) -> tuple[int, int, int]:
    """(z, x, y) of the tile path; ParameterErrors naming each that is not an integer in its range."""
    errors = []
    values = []
    for spec in TILE_PATH_PARAMETERS:
        name, schema = spec["name"], spec["schema"]
        raw = path.get(name, "")
        value = int(raw) if re.fullmatch(r"[0-9]{1,8}", raw) else -1
        if not schema["minimum"] <= value <= schema["maximum"]:
            message = f"Input should be an integer between {schema['minimum']} and {schema['maximum']}"
            errors.append({"in": "path", "name": name, "message": message})
        values.append(value)
    if errors:
        raise ParameterErrors(errors)
    return values[0], values[1], values[2]


class TileParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    coord: Coord = Field(
        "gcj02", description="system the tiles are drawn in: gcj02 (Amap, Tencent, WeChat), bd09, wgs84"
    )


def parse_tile_query(query: Mapping[str, str]) -> TileParams:
    params: TileParams = _validated(TileParams, dict(query), {"coord": 0}, [])
    return params
