"""Occupancy beside other answers: the station detail's summary, and wait columns for list views."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import Request

from api.deps import clock_of
from api.occupancy_json import occupancy_summary
from api.occupancy_live import book_of, book_with_layout


async def occupancy_detail(request: Request, station_id: int, grade: str | None) -> dict[str, Any]:
    """`occupancy` (summary) and `suggested_position` (with a grade) for the station detail."""
    book = await book_with_layout(request, station_id)
    now = clock_of(request).now().timestamp()
    occ = book.occupancy(station_id, now)
    out: dict[str, Any] = {"occupancy": occupancy_summary(occ) if occ is not None else None}
    if grade is not None:
        est = book.wait(station_id, grade, now)
        out["suggested_position"] = est.suggested_position if est is not None else None
    return out


def wait_columns(
    request: Request, station_ids: np.ndarray, grade: str
) -> tuple[list[float | None], list[bool | None]]:
    """Expected wait (minutes, one decimal) and stale flag per station; None for a station that never
    reported. As of the last multiple of occupancy_list_wait_seconds, each (station, grade) computed once
    per step in this worker (see the setting)."""
    book = book_of(request.app)
    step = request.app.state.settings.occupancy_list_wait_seconds
    as_of = math.floor(clock_of(request).now().timestamp() / step) * step
    owner, cache = request.app.state.list_waits
    if owner is not book or len(cache) > 200_000:  # a new book (tables emptied) starts a new cache
        cache = {}
        request.app.state.list_waits = (book, cache)
    minutes: list[float | None] = []
    stale: list[bool | None] = []
    for sid in station_ids.tolist():
        hit = cache.get((sid, grade))
        if hit is not None and hit[0] == as_of:
            found = hit[1]
        else:
            found = book.wait_minutes(sid, grade, as_of) if book.has_reported(sid) else None
            cache[(sid, grade)] = (as_of, found)
        if found is None:
            minutes.append(None)
            stale.append(None)
        else:
            minutes.append(round(found[0], 1))
            stale.append(found[1])
    return minutes, stale


def wait_members(minutes: list[float | None], stale: list[bool | None]) -> list[bytes]:
    """`,"wait_minutes":3.5,"wait_stale":false` per item (null when unknown)."""
    return [
        b',"wait_minutes":null,"wait_stale":null'
        if m is None
        else b',"wait_minutes":%.1f,"wait_stale":%s' % (m, b"true" if s else b"false")
        for m, s in zip(minutes, stale, strict=True)
    ]


def wait_order(minutes: list[float | None], chords: np.ndarray) -> np.ndarray:
    """Indexes by expected wait (unknown last), then by distance."""
    key = np.array([m if m is not None else np.inf for m in minutes], dtype=np.float64)
    return np.lexsort((chords, key))


def by_wait(
    request: Request, snap_ids: np.ndarray, grade: str, positions: np.ndarray, chords: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """The stations within the radius, shortest expected wait for `grade` first (unknown last)."""
    minutes, _ = wait_columns(request, snap_ids[positions], grade)
    order = wait_order(minutes, chords)[:limit]
    return positions[order], chords[order]
