"""Expected waits shown beside list items: minutes (one decimal) and stale flag per station."""

from __future__ import annotations

import math

import numpy as np

from occupancy.book import OccupancyBook

_CAP = 200_000


class ListWaits:
    """Each (station, grade) wait computed once per `step_s` in this worker: lists show the wait as of the
    last multiple of the step (settings.occupancy_list_wait_seconds). A new book (the occupancy tables
    were emptied) starts a new cache. Used on the event loop only, the thread that touches the book."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self._owner: OccupancyBook | None = None
        self._cache: dict[tuple[int, str], tuple[float, tuple[float, bool] | None]] = {}

    def columns(
        self, book: OccupancyBook, station_ids: np.ndarray, grade: str, now_s: float
    ) -> tuple[list[float | None], list[bool | None]]:
        """Minutes and stale flag per station; None for a station that never reported."""
        as_of = math.floor(now_s / self.step_s) * self.step_s
        if self._owner is not book or len(self._cache) > _CAP:
            self._owner, self._cache = book, {}
        cache = self._cache
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


def wait_keys(minutes: list[float | None]) -> np.ndarray:
    """The sort key of expected waits: minutes, unknown last (+inf)."""
    return np.array([m if m is not None else np.inf for m in minutes], dtype=np.float64)
