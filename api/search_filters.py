"""The search filters of the list routes (brand, services, q, region) read against the worker's snapshot:
names drivers type become codes, every name the service does not know is a 400 naming it (its problem type
says which: unknown-brand, unknown-service), a region no station lies in is a 404 region-not-found, and
several values go in one parameter, comma-separated (`brand=中石化,shell`): a repeated parameter is refused
rather than half read."""

from __future__ import annotations

from typing import Any

from api.query_string import ParameterErrors, repeated
from geo.brands import resolve_brands
from geo.errors import UnknownName
from geo.keywords import keywords
from geo.regions import LEVELS, Level, Region, RegionBook
from geo.services import resolve_services, service_mask
from geo.snapshot import Snapshot

FILTERS = ("brand", "services", "region", "q")
_KEYS = tuple(f"{name}=".encode() for name in FILTERS)
SLUGS = {"brand": "unknown-brand", "services": "unknown-service"}
TITLES = {"brand": "Unknown brand", "services": "Unknown service"}
SEARCH_PROBLEMS = ["unknown-brand", "unknown-service"]  # 400
REGION_PROBLEMS = ["region-not-found"]  # 404: a well-formed region no station lies in


def _refusal(name: str, message: str) -> dict[str, str]:
    return {"in": "query", "name": name, "message": message}


def search_filters(raw_query: bytes, values: dict[str, str | None], snap: Snapshot) -> dict[str, Any]:
    """NearbyQuery keyword arguments (brands, services, words, places) for the given filter values."""
    if not any(values.values()) and not any(key in raw_query for key in _KEYS):
        return {}  # the common case: no filter
    found: list[tuple[str, dict[str, str]]] = []
    twice = {name for name in FILTERS if len(repeated(raw_query, name)) > 1}
    for name in sorted(twice, key=FILTERS.index):
        message = f"given more than once; list several comma-separated ({name}=a,b)"
        found.append(("invalid-parameter", _refusal(name, message)))
    out: dict[str, Any] = {}
    brand, services, region, q = (None if n in twice else values.get(n) for n in FILTERS)
    try:
        if brand:
            out["brands"] = resolve_brands(brand, snap.brands)
    except UnknownName as exc:
        found.append((SLUGS["brand"], _refusal("brand", str(exc))))
    try:
        if services:
            out["services"] = service_mask(resolve_services(services))
    except UnknownName as exc:
        found.append((SLUGS["services"], _refusal("services", str(exc))))
    if q:
        out["words"] = keywords(q)
    if found:
        slug = found[0][0]
        title = next((TITLES[k] for k, s in SLUGS.items() if s == slug), "Invalid request parameters")
        items = [item for _, item in found]
        detail = "; ".join(f"{e['name']}: {e['message']}" for e in items)
        raise ParameterErrors(items, slug=slug, title=title, detail=detail)
    if region:  # after the 400s: a 404 for a place the catalogue does not hold
        out["places"] = tuple(sorted(resolve_region(snap.regions, "region", region).places))
    return out


def region_not_found(name: str, message: str) -> ParameterErrors:
    return ParameterErrors(
        [_refusal(name, message)],
        slug="region-not-found",
        title="Region not found",
        lead="unknown",
        status=404,
    )


def resolve_region(book: RegionBook, name: str, value: str, levels: tuple[Level, ...] = LEVELS) -> Region:
    """The region parameter `name` names, or a 404 region-not-found naming the parameter."""
    try:
        return book.resolve(value, levels)
    except UnknownName as exc:
        raise region_not_found(name, str(exc)) from None
