"""What the detail screen shows beside the record, in the same answer: each grade's prices (the ladder:
guide, pump, platform, member levels; and this driver's member price), today's hours in the station's local
time, and each grade's expected wait with a free position to drive to."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from api.ladder_json import ladder_json
from api.occupancy_json import occupancy_summary
from api.occupancy_live import book_with_layout
from api.services import Services
from geo.hours import DAYS, OpeningHours
from pricing import ladder
from pricing.member_price import member_level, member_price
from pricing.money import price_text


def grade_prices(
    engine: Engine, station_id: int, driver_id: str | None, at: datetime
) -> list[dict[str, Any]]:
    """Each grade the station sells or prices: its ladder and `member_price` (null without a level)."""
    with engine.connect() as conn:
        found = ladder.ladders(conn, station_id, None, at)
        level = member_level(conn, driver_id)
        out = []
        for one in found:
            member = member_price(conn, level, one)
            out.append(
                {
                    **ladder_json(one),
                    "member_price": None
                    if member is None
                    else {"level": member.level, "price": price_text(member.price, member.currency)},
                }
            )
    return out


def today(hours: OpeningHours | None, status: str, timezone: str, now: datetime) -> dict[str, Any]:
    """The station's local day: date, weekday, local time, open now and the day's hours (null: unknown)."""
    local = now.astimezone(ZoneInfo(timezone))
    if status != "open":
        open_now: bool | None = False
    else:
        open_now = None if hours is None else hours.is_open(local)
    return {
        "date": local.date().isoformat(),
        "weekday": DAYS[local.weekday()],
        "local_time": local.isoformat(timespec="milliseconds"),
        "open_now": open_now,
        "hours": None if hours is None else [list(span) for span in hours.day(local)],
    }


async def waits(services: Services, station_id: int, grades: list[str]) -> dict[str, Any]:
    """`occupancy` (summary) and `waits`: per grade, the expected wait and a free position serving it (a
    grade no position serves, or a station without positions, has none)."""
    book = await book_with_layout(services.occupancy, services.engine, station_id)
    now = services.clock.now().timestamp()
    occ = book.occupancy(station_id, now)
    per_grade = []
    for grade in grades:
        est = book.wait(station_id, grade, now)
        if est is not None:
            per_grade.append(
                {
                    "grade": grade,
                    "minutes": round(est.minutes, 1),
                    "p10_minutes": round(est.p10_minutes, 1),
                    "p90_minutes": round(est.p90_minutes, 1),
                    "stale": est.stale,
                    "suggested_position": est.suggested_position,
                }
            )
    return {
        "occupancy": occupancy_summary(occ) if occ is not None else None,
        "waits": per_grade,
    }
