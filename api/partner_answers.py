"""Bodies of the partner routes (/v1/partner/...): every one carries the licence and attribution."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.settings import Settings


class Licensed(BaseModel):
    licence: str = Field(description="the terms the data is licensed to the partner under")
    attribution: str = Field(
        description="what the partner shows next to the data", examples=["加油站数据：fuel-stations"]
    )


def licence_fields(settings: Settings) -> dict[str, Any]:
    """The `licence` and `attribution` of every partner answer."""
    return {"licence": settings.partner_licence, "attribution": settings.partner_attribution}


class DayUsage(BaseModel):
    day: str = Field(description="the China day (Asia/Shanghai), YYYY-MM-DD", examples=["2026-12-02"])
    served: int = Field(ge=0, description="requests answered (counted against the daily quota)")
    refused: int = Field(ge=0, description="requests refused with 429 (rate limit or quota)")


class Limits(BaseModel):
    rate_per_second: float = Field(description="each key's bucket refills this many requests a second")
    burst: int = Field(ge=1, description="each key's bucket holds this many requests")
    daily_quota: int | None = Field(description="requests per China day, all keys together; null: none")


class PartnerUsage(Licensed):
    partner_id: int
    limits: Limits
    quota_left_today: int | None = Field(description="requests left today; null: no daily quota")
    days: list[DayUsage] = Field(description="today first, then each day before")


class PartnerMe(Licensed):
    partner_id: int
    name: str
    coord: Literal["wgs84", "gcj02", "bd09"] = Field(
        description="the coordinate system of answers by default"
    )
    language: Literal["zh", "en"] = Field(description="the language of texts by default")
    key_id: str = Field(description="the key this request used")
    scopes: list[str] = Field(description="what this key may read or manage")
    limits: Limits
    today: DayUsage
