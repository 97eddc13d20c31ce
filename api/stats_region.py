"""The region of /v1/prices/stats: `city` and `province` as drivers type them (adcode, full or short name),
resolved to the catalogue's full names; an unknown one, or a city outside the given province, is a 400
unknown-region naming the parameter."""

from __future__ import annotations

from dataclasses import dataclass

from api.query_string import ParameterErrors
from geo.errors import UnknownName
from geo.regions import RegionBook


@dataclass(frozen=True)
class StatsRegion:
    province: str | None
    city: str | None


def _unknown(name: str, message: str) -> ParameterErrors:
    return ParameterErrors(
        [{"in": "query", "name": name, "message": message}],
        slug="unknown-region",
        title="Unknown region",
        lead="unknown",
    )


def stats_region(book: RegionBook, *, city: str | None, province: str | None) -> StatsRegion:
    found_province = found_city = None
    if province:
        try:
            found_province = book.resolve(province, ("province",)).name
        except UnknownName as exc:
            raise _unknown("province", str(exc)) from None
    if city:
        try:
            found = book.resolve(city, ("city",))
        except UnknownName as exc:
            raise _unknown("city", str(exc)) from None
        if found_province is not None and found.province != found_province:
            raise _unknown("city", f"{found.name} is not in {found_province}")
        found_city = found.name
    return StatsRegion(found_province, found_city)
