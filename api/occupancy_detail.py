"""Occupancy beside the station detail: its summary, and a free position for a grade."""

from __future__ import annotations

from typing import Any

from api.occupancy_json import occupancy_summary
from api.occupancy_live import book_with_layout
from api.services import Services


async def occupancy_detail(services: Services, station_id: int, grade: str | None) -> dict[str, Any]:
    """`occupancy` (summary) and `suggested_position` (with a grade) for the station detail."""
    book = await book_with_layout(services.occupancy, services.engine, station_id)
    now = services.clock.now().timestamp()
    occ = book.occupancy(station_id, now)
    out: dict[str, Any] = {"occupancy": occupancy_summary(occ) if occ is not None else None}
    if grade is not None:
        est = book.wait(station_id, grade, now)
        out["suggested_position"] = est.suggested_position if est is not None else None
    return out
