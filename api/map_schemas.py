"""Typed bodies of the map routes (documentation: the viewport renders bytes itself, as the list routes
do; tests validate its bodies against these schemas)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.column_schemas import DECIMAL, EffectiveColumn, ListedPrice, NavigationLinks
from api.schemas import Location


class BBox(BaseModel):
    west: float
    south: float
    east: float
    north: float


class ViewportStation(BaseModel):
    id: int
    name: str
    brand: str = Field(description="brand code, e.g. sinopec, petrochina, cnooc, shell, total, private")
    brand_name: str
    address: str
    grades: list[str]
    status: str = Field(description="open | temporarily_closed")
    location: Location
    open_now: bool | None = Field(
        description="open at as_of in the station's local time; null: hours unknown"
    )
    prices: dict[str, ListedPrice] | None = Field(default=None, description="with prices=true")
    effective: EffectiveColumn | None = Field(default=None, description="with effective=true")
    wait_minutes: float | None = Field(default=None, description="with wait=true: null when unknown")
    wait_stale: bool | None = Field(default=None, description="with wait=true")
    navigation: NavigationLinks | None = Field(default=None, description="with nav=true")


class ClusterPrice(BaseModel):
    grade: str
    currency: str
    price: str = Field(pattern=DECIMAL, description="cheapest fresh price per litre (platform, else pump)")


class BrandShare(BaseModel):
    brand: str
    brand_name: str
    count: int
    share: float = Field(description="count / the cluster's count, 3 places")


class Cluster(BaseModel):
    id: str = Field(description="the grid square: <level>/<column>/<row> (web-mercator quadtree of `coord`)")
    count: int
    centroid: Location = Field(description="mean position of the members, in `coord`")
    bbox: BBox = Field(description="the members' bounding box, in `coord` (inside the request's box)")
    cheapest: list[ClusterPrice] = Field(description="per grade (and currency): the cheapest fresh price")
    brands: list[BrandShare] = Field(description="most common first")


class ViewportPage(BaseModel):
    coord: str = Field(description="coordinate system of bbox, every location and cluster")
    bbox: BBox
    zoom: int
    as_of: str
    catalogue_version: int
    kind: Literal["stations", "clusters"] = Field(
        description="stations: `items` lists every station in the box (at most 200), `clusters` is empty; "
        "clusters: more were inside, `clusters` groups all of them and `items` is empty"
    )
    count: int = Field(description="stations inside the box (after the filters)")
    cluster_level: int | None = Field(description="quadtree level of the cluster grid; null for stations")
    items: list[ViewportStation]
    clusters: list[Cluster]


class VectorLayer(BaseModel):
    id: str
    description: str
    minzoom: int
    maxzoom: int
    fields: dict[str, str] = Field(description="attribute -> type (Number, String)")


class TileJson(BaseModel):
    """TileJSON 3.0.0 of the station tiles."""

    tilejson: Literal["3.0.0"]
    name: str
    description: str
    version: str
    attribution: str
    scheme: Literal["xyz"]
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float] = Field(description="west, south, east, north in `coord`")
    center: list[float] = Field(description="lon, lat, zoom")
    coord: str = Field(description="the system the tiles are drawn in")
    vector_layers: list[VectorLayer]


class ProvinceProperties(BaseModel):
    code: str = Field(description="ISO 3166-2:CN, e.g. CN-YN")
    name: str = Field(description="romanised name (DCW)")
    name_zh: str = Field(description="Chinese short name, e.g. 云南")


class MultiPolygonGeometry(BaseModel):
    type: Literal["MultiPolygon"]
    coordinates: list[list[list[list[float]]]] = Field(description="polygons, rings, [lon, lat] in `coord`")


class ProvinceFeature(BaseModel):
    type: Literal["Feature"]
    properties: ProvinceProperties
    geometry: MultiPolygonGeometry


class ProvinceOutlines(BaseModel):
    """GeoJSON FeatureCollection of the province outlines (simplified ~2 km), the map page's basemap."""

    type: Literal["FeatureCollection"]
    coord: str = Field(description="coordinate system of every vertex (the request's `coord`)")
    source: str = Field(description="the data set and its licence")
    features: list[ProvinceFeature]
