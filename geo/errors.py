"""Domain errors of the geo package. They carry no HTTP status: api/errors.py maps them."""

from __future__ import annotations


class GeoError(ValueError):
    """Base class for bad geographic input."""


class InvalidCoordinates(GeoError):
    pass


class InvalidSearch(GeoError):
    """A search parameter outside its documented range (radius, limit, cursor, filter)."""


class InvalidRoute(GeoError):
    """A route that cannot be searched along: malformed, one point, too long, too many vertices."""


class InvalidHours(GeoError):
    pass


class UnknownGrade(GeoError):
    pass


class StationNotFound(LookupError):
    def __init__(self, station_id: int) -> None:
        super().__init__(f"station {station_id} does not exist")
        self.station_id = station_id


class UnknownName(GeoError):
    """Names a search parameter does not know (brands, services, regions), all of them at once."""

    kind = "name"

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"unknown {self.kind}: " + ", ".join(names))
        self.names = names


class UnknownBrand(UnknownName):
    kind = "brand"


class UnknownService(UnknownName):
    kind = "service"


class UnknownRegion(UnknownName):
    kind = "region"


class TileNotFound(LookupError):
    """A tile column or row beyond its zoom's 2^z."""
