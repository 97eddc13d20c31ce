"""Fueling positions and nozzles of stations, from the catalogue, loaded lazily and cached per process."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import sqlalchemy as sa

from occupancy.events import PositionLayout

Layout = dict[int, PositionLayout]  # position number -> its nozzles

_LAYOUTS = sa.text(
    """
    SELECT s.id AS station_id, p.number AS position, n.number AS nozzle, n.grade
    FROM stations s
    LEFT JOIN fueling_positions p ON p.station_id = s.id
    LEFT JOIN nozzles n ON n.position_id = p.id
    WHERE s.id = ANY(:ids)
    """
)


def load_layouts(conn: sa.Connection, station_ids: Iterable[int]) -> dict[int, Layout]:
    """Layouts of the given stations; a station that does not exist is absent from the answer."""
    ids = sorted(set(station_ids))
    if not ids:
        return {}
    grades: dict[int, dict[int, dict[int, str]]] = {}
    for station_id, position, nozzle, grade in conn.execute(_LAYOUTS, {"ids": ids}):
        positions = grades.setdefault(int(station_id), {})
        if position is not None:
            nozzles = positions.setdefault(int(position), {})
            if nozzle is not None:
                nozzles[int(nozzle)] = str(grade)
    return {
        sid: {number: PositionLayout(number, nozzles) for number, nozzles in sorted(positions.items())}
        for sid, positions in grades.items()
    }


class LayoutCache:
    """Layouts by station id, valid for one catalogue version (the owner calls `reset` when it changes)."""

    def __init__(self) -> None:
        self._layouts: dict[int, Layout] = {}
        self._lock = threading.Lock()
        self.version: int | None = None

    def get_many(self, conn: sa.Connection, station_ids: Iterable[int]) -> dict[int, Layout]:
        """Cached layouts, loading the missing ones in one query; unknown stations are absent."""
        wanted = set(station_ids)
        found = {sid: self._layouts[sid] for sid in wanted if sid in self._layouts}
        missing = wanted - found.keys()
        if missing:
            loaded = load_layouts(conn, missing)
            with self._lock:
                self._layouts.update(loaded)
            found.update(loaded)
        return found

    def get(self, conn: sa.Connection, station_id: int) -> Layout | None:
        return self.get_many(conn, (station_id,)).get(station_id)

    def cached_ids(self) -> list[int]:
        return list(self._layouts)

    def forget(self, station_id: int) -> None:
        """The station's positions or nozzles changed (the change log said so)."""
        with self._lock:
            self._layouts.pop(station_id, None)

    def reset(self, version: int) -> list[int]:
        """Forget every layout (the catalogue changed); returns the ids that were cached."""
        with self._lock:
            ids = list(self._layouts)
            self._layouts = {}
            self.version = version
        return ids
