"""Bodies of the partner routes (snapshot lines, change feed, POI ids, webhook subscriptions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.column_schemas import DECIMAL
from api.decimal_text import DecimalText
from api.schemas import Location

CURSOR_PATTERN = r"^c1\.[1-9][0-9]{0,17}\.[0-9]{1,18}$"  # what changelog.Cursor.parse accepts
POI_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"
ADCODE_PATTERN = r"^[0-9]{6}$"


class PartnerPrice(BaseModel):
    grade: str
    tier: str = Field(description="pump | platform | attended | member:<level>")
    price: str = Field(pattern=DECIMAL, description="per litre, two decimals (yuan)", examples=["7.89"])
    currency: str = Field(examples=["CNY"])
    effective_from: str = Field(description="RFC 3339, UTC, milliseconds")
    confirmed_at: str = Field(description="when the price was last confirmed (staleness)")


class PartnerStation(BaseModel):
    id: int
    poi_id: str | None = Field(description="your own id of this station (PUT .../poi-id); null: none given")
    name: str
    brand: str
    address: str
    province: str | None
    city: str | None
    county: str | None
    adcode: str | None
    location: Location = Field(description="in the answer's coordinate system (`coord`)")
    status: str = Field(description="open | temporarily_closed | closed")
    grades: list[str]
    services: list[str]
    timezone: str
    opening_hours: dict[str, Any] | None = Field(description="the station's hours as stored; null: unknown")
    updated_at: str
    prices: list[PartnerPrice] = Field(description="the prices in force (open-ended windows), by grade, tier")


class SnapshotLine(BaseModel):
    """One NDJSON line of the snapshot: a header first, a station per line (id order), an end line last."""

    type: Literal["header", "station", "end"]
    coord: str | None = Field(default=None, description="header: the coordinate system of every location")
    head_seq: int | None = Field(
        default=None, description="header, end: the change-log transaction the snapshot is as of"
    )
    generated_at: str | None = Field(default=None, description="header")
    licence: str | None = Field(default=None, description="header: terms of use of the data")
    station: PartnerStation | None = Field(default=None, description="station lines")
    cursor: str | None = Field(
        default=None,
        pattern=CURSOR_PATTERN,
        description="end: follow GET /v1/partner/changes from here (no gap, no overlap with the snapshot)",
    )
    stations: int | None = Field(default=None, description="end: how many station lines were sent")


class FeedItem(BaseModel):
    seq: int = Field(description="the change-log transaction (commit order)")
    committed_at: str
    station_id: int
    changed: list[Literal["poi_id", "price", "station"]] = Field(
        description="what changed: the station record (status included), its prices, your POI id"
    )
    deleted: bool = Field(description="the station no longer exists (station is null)")
    station: PartnerStation | None = Field(
        description="current values as of the page's head_seq (may already include later changes)"
    )


class FeedPage(BaseModel):
    coord: str
    cursor: str = Field(pattern=CURSOR_PATTERN, description="pass as cursor= for the next page")
    head_seq: int = Field(description="the last transaction committed when this page was read")
    more: bool = Field(description="more changes are waiting: ask again at once")
    items: list[FeedItem]


class PoiIdBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    poi_id: str = Field(pattern=POI_ID_PATTERN, description="your id of the station", examples=["B0FFG7KQ2M"])


class PoiIdAnswer(BaseModel):
    station_id: int
    poi_id: str | None = Field(description="your id of the station now (null after DELETE)")


class PartnerStationAnswer(BaseModel):
    coord: str
    station: PartnerStation


Threshold = Annotated[
    Decimal,
    DecimalText(r"^(0|[1-9][0-9]{0,2})(\.[0-9]{1,2})?$", "yuan per litre, 0 to 999.99", "0.05"),
]


class SubscriptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        pattern=r"^https?://[^\s/?#]+[^\s]*$",
        max_length=2000,
        description="where deliveries are POSTed",
        examples=["https://partner.example/hooks/prices"],
    )
    adcode: str | None = Field(
        default=None,
        pattern=ADCODE_PATTERN,
        description="region: a province (530000), city (530100) or county adcode; null: everywhere",
    )
    brands: list[Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]] = Field(
        default_factory=list, max_length=50, description="brand codes (sinopec, shell ...); empty: all"
    )
    grades: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9#]{1,8}$")]] = Field(
        default_factory=list, max_length=20, description="grades (92, 95, 0 ...); empty: all"
    )
    tiers: list[Annotated[str, Field(pattern=r"^(pump|platform|attended|member:[a-z0-9_-]{1,32})$")]] = Field(
        default_factory=lambda: ["pump"], min_length=1, max_length=10
    )
    threshold: Threshold = Field(
        default=Decimal("0"), description="notify only when |new - previous| >= this (yuan per litre)"
    )
    coord: Literal["wgs84", "gcj02", "bd09"] | None = Field(
        default=None, description="locations in deliveries; default: your account's system"
    )


class Subscription(BaseModel):
    id: int
    url: str
    coord: str
    adcode: str | None
    brands: list[str]
    grades: list[str]
    tiers: list[str]
    threshold: str = Field(pattern=DECIMAL)
    active: bool = Field(description="false: disabled after repeated failures (replay to resume)")
    consecutive_failures: int
    disabled_at: str | None
    created_at: str
    pending: int = Field(description="deliveries waiting")


class CreatedSubscription(Subscription):
    secret: str = Field(description="signs deliveries (HMAC-SHA256); shown only in this answer")


class Subscriptions(BaseModel):
    items: list[Subscription]


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str = Field(
        pattern=CURSOR_PATTERN,
        description="deliver again every matching event after this cursor (each delivery carries its own)",
        examples=["c1.1200.0"],
    )


class ReplayAnswer(BaseModel):
    subscription: Subscription
    changes: int = Field(description="change-log rows read")
    enqueued: int = Field(description="deliveries enqueued (pending duplicates skipped)")
