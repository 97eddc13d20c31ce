"""What a price adapter yields: zone definitions, region mappings, guide prices, station prices, rejects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Engine

from ingest.items import BadRow, Reject
from pricing.ladder import GuideUpdate


@dataclass(frozen=True)
class ZoneDef:
    line: int
    raw: str
    row: tuple[str, str, str, str, str | None]  # province_code, zone_code, province_name, zone_name, url


@dataclass(frozen=True)
class RegionDef:
    line: int
    raw: str
    row: tuple[str, str, str, str | None]  # region, province_code, zone_code, locality


@dataclass(frozen=True)
class GuidePrice:
    line: int
    raw: str
    update: GuideUpdate

    @property
    def key(self) -> tuple[object, ...]:
        u = self.update
        return ("guide", u.province_code, u.zone_code, u.grade, u.effective_from)


@dataclass(frozen=True)
class StationPrice:
    line: int
    raw: str
    id_source: str  # station_identifiers.source
    external_id: str
    grade: str
    tier: str
    price: Decimal
    currency: str
    effective_from: datetime
    source: str

    @property
    def key(self) -> tuple[object, ...]:
        return ("station", self.id_source, self.external_id, self.grade, self.tier)


PriceItem = ZoneDef | RegionDef | GuidePrice | StationPrice | Reject
PriceAdapter = Callable[[Path, Engine], Iterator[PriceItem]]


def decimal(text: str, what: str = "price") -> Decimal:
    """A feed's number string straight to Decimal (never through float)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise BadRow(f"unparsable {what} {text.strip()!r}") from None
    if not value.is_finite():
        raise BadRow(f"unparsable {what} {text.strip()!r}")
    return value
