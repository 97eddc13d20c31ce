"""Typed values of the optional list columns (nearby: prices=true, effective=true)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DECIMAL = r"^-?[0-9]+\.[0-9]+$"


class ListedPrice(BaseModel):
    """One grade's current price at a station (nearby with prices=true)."""

    currency: str
    pump: str = Field(pattern=DECIMAL, description="the pump price per litre")
    platform: str | None = Field(pattern=DECIMAL, description="the platform's price per litre; null: none")
    stale: bool = Field(description="not confirmed within the staleness window")


class EffectiveColumn(BaseModel):
    """What this driver pays for the fill at a station (nearby with effective=true)."""

    currency: str
    litres: str = Field(pattern=DECIMAL)
    payable: str = Field(pattern=DECIMAL)
    effective_price_per_litre: str = Field(pattern=DECIMAL)


class NavigationLink(BaseModel):
    coord: str = Field(
        description="the system of the link's coordinates: gcj02 (Amap, Tencent) or bd09 (Baidu)"
    )
    web: str = Field(description="the app's public URI API page (opens the app when installed)")
    app: str = Field(description="the app's own URI scheme (amapuri://, qqmap://, baidumap://)")


class NavigationLinks(BaseModel):
    """Driving navigation to the station (nav=true): 一键导航."""

    amap: NavigationLink
    tencent: NavigationLink
    baidu: NavigationLink
