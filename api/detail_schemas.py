"""The parts of the station detail that serve its screen in one call: today, prices per grade, waits."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.price_answers import DecimalString, Rung


class Today(BaseModel):
    date: str = Field(description="the station's local date, YYYY-MM-DD")
    weekday: str = Field(description="mon ... sun")
    local_time: str = Field(description="now in the station's time zone, RFC 3339 with milliseconds")
    open_now: bool | None = Field(description="null: hours unknown")
    hours: list[list[str]] | None = Field(
        description='today\'s opening intervals ["HH:MM", "HH:MM"], clipped to the day (end "24:00" '
        "runs past midnight); [] closed all day; null: hours unknown"
    )


class MemberPrice(BaseModel):
    level: str
    price: DecimalString


class GradePrices(BaseModel):
    grade: str
    rungs: list[Rung] = Field(description="guide first, then pump, platform, member levels; none: no price")
    member_price: MemberPrice | None = Field(
        description="what the signed-in driver pays per litre as a member; null: no level or no price"
    )


class GradeWait(BaseModel):
    grade: str
    minutes: float = Field(description="expected wait, minutes (one decimal)")
    p10_minutes: float
    p90_minutes: float
    stale: bool = Field(description="the station's live state is old: history only")
    suggested_position: int | None = Field(description="a free fueling position serving the grade")
