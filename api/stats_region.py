"""The region of /v1/prices/stats: `city` and `province` as drivers type them (adcode, full or short name),
resolved to the catalogue's full names; one no station lies in, or a city outside the given province, is a
404 region-not-found naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass

from api.search_filters import region_not_found, resolve_region
from geo.regions import RegionBook


@dataclass(frozen=True)
class StatsRegion:
    province: str | None
    city: str | None


def stats_region(book: RegionBook, *, city: str | None, province: str | None) -> StatsRegion:
    found_province = resolve_region(book, "province", province, ("province",)).name if province else None
    found_city = None
    if city:
        found = resolve_region(book, "city", city, ("city",))
        if found_province is not None and found.province != found_province:
            raise region_not_found("city", f"{found.name} is not in {found_province}")
        found_city = found.name
    return StatsRegion(found_province, found_city)
