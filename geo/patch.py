"""Station changes applied to a live Snapshot in place, one station at a time (the change log names them).

An update of a station the snapshot holds rewrites its position's entries: the static JSON fragment, brand,
grades, services, keyword text, region, status, opening hours, time zone and, when it moved, its place in
the H3 buckets. A station that closed (or was deleted) leaves the buckets, so no search finds it; one that
reopens goes back. The cost is per changed station, independent of the network's size. A station the
snapshot has never held (a new one) cannot be placed without shifting every position: the caller rebuilds
instead. Runs on the event loop (the thread that searches), so a search sees a station before or after its
patch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import orjson

from geo import cells, coords, grid_patch
from geo.distance import ecef
from geo.grades import GRADE_BITS
from geo.hours import OpeningHours
from geo.keywords import station_text
from geo.services import service_mask
from geo.snapshot import STATUS_CODES, UNKNOWN_HOURS, Snapshot, fragment, place_code

CLOSED = STATUS_CODES["closed"]


@dataclass
class Patched:
    stations: list[int] = field(default_factory=list)  # positions rewritten
    unknown: list[int] = field(default_factory=list)  # ids the snapshot does not hold (rebuild)


def _position(snap: Snapshot, station_id: int) -> int | None:
    pos = int(np.searchsorted(snap.ids, station_id))
    return pos if pos < len(snap.ids) and int(snap.ids[pos]) == station_id else None


def _searchable(snap: Snapshot, pos: int) -> bool:
    return int(snap.status[pos]) != CLOSED


def _code(names: tuple[str, ...], name: str) -> tuple[tuple[str, ...], int]:
    if name in names:
        return names, names.index(name)
    return (*names, name), len(names)


def _schedule(snap: Snapshot, hours_text: str | None) -> int:
    """The schedule code of these hours: an existing one when the snapshot has seen the same text, else a
    new schedule appended (so repeated patches of a station do not grow the schedules)."""
    if hours_text is None:
        return UNKNOWN_HOURS
    known = snap.schedule_codes.get(hours_text)
    if known is not None:
        return known
    hours = OpeningHours.from_json(orjson.loads(hours_text))
    s = snap.schedules
    code = len(s.always_open)
    week = list(hours.week)
    snap.schedules = replace(
        s,
        always_open=np.append(s.always_open, hours.always_open),
        interval_schedule=np.append(s.interval_schedule, np.full(len(week), code, dtype=np.int32)),
        interval_start=np.append(s.interval_start, np.asarray([a for a, _ in week], dtype=np.int32)),
        interval_end=np.append(s.interval_end, np.asarray([b for _, b in week], dtype=np.int32)),
    )
    snap.schedule_codes[hours_text] = code
    return code


def _leave_buckets(snap: Snapshot, pos: int) -> None:
    lon, lat = snap.lonlat[coords.CoordSystem.WGS84]
    for res, buckets in snap.buckets.items():
        cell = cells.cell_of(float(lon[pos]), float(lat[pos]), res)
        members = buckets.get(cell)
        if members is None or pos not in members:  # not where its point says: look everywhere (never seen)
            cell = next((c for c, m in buckets.items() if pos in m), cell)
            members = buckets.get(cell)
        if members is not None:
            kept = members[members != pos]
            if len(kept):
                buckets[cell] = kept
            else:
                del buckets[cell]


def _join_buckets(snap: Snapshot, pos: int, row: dict[str, Any]) -> None:
    for res, cell in ((5, row["h3_r5"]), (7, row["h3_r7"])):
        members = snap.buckets[res].get(int(cell))
        snap.buckets[res][int(cell)] = (
            np.array([pos], dtype=np.int64) if members is None else np.union1d(members, [pos])
        )


def _move(snap: Snapshot, pos: int, lon: float, lat: float) -> None:
    snap.xyz[pos] = ecef(np.array([lon]), np.array([lat]))[0]
    for system, (lons, lats) in snap.lonlat.items():
        x, y = coords.from_wgs84(lon, lat, system) if system is not coords.CoordSystem.WGS84 else (lon, lat)
        lons[pos], lats[pos] = x, y


def patch_stations(snap: Snapshot, rows: Iterable[dict[str, Any]], gone: Iterable[int]) -> Patched:
    """Apply the current `rows` of changed stations (geo.repository.station_rows) and the ids of deleted
    ones."""
    done = Patched()
    searchable_changed = False
    regridded: list[int] = []  # stations the cluster grids must move, drop, add or rebrand
    refiltered: list[int] = []  # stations whose grades, services or place changed (filtered grids)
    for row in rows:
        pos = _position(snap, int(row["id"]))
        if pos is None:
            if row["status"] != "closed":
                done.unknown.append(int(row["id"]))
            continue
        was_searchable = _searchable(snap, pos)
        lons, lats = snap.lonlat[coords.CoordSystem.WGS84]
        moved = float(lons[pos]) != row["lon"] or float(lats[pos]) != row["lat"]
        if was_searchable and (moved or row["status"] == "closed"):
            _leave_buckets(snap, pos)
        if moved:
            _move(snap, pos, row["lon"], row["lat"])
        if row["status"] != "closed" and (moved or not was_searchable):
            _join_buckets(snap, pos, row)
        left_or_came = was_searchable != (row["status"] != "closed")
        searchable_changed |= moved or left_or_came
        brand_before = int(snap.brand[pos])
        snap.brands, snap.brand[pos] = _code(snap.brands, row["brand"])
        if moved or left_or_came or brand_before != int(snap.brand[pos]):
            regridded.append(pos)
        selected_by = (snap.grade_mask[pos], snap.services[pos], snap.region[pos])
        snap.grade_mask[pos] = sum(1 << GRADE_BITS[g] for g in set(row["grades"]) if g in GRADE_BITS)
        snap.status[pos] = STATUS_CODES[row["status"]]
        snap.schedule[pos] = _schedule(snap, row["opening_hours"])
        snap.timezones, snap.timezone[pos] = _code(snap.timezones, row["timezone"])
        snap.fragments[pos] = fragment(row)
        snap.services[pos] = service_mask(row.get("services") or ())
        snap.texts[pos] = station_text(row["name"], row["address"])
        snap.region[pos] = place_code(snap.regions, row)
        if selected_by != (snap.grade_mask[pos], snap.services[pos], snap.region[pos]):
            refiltered.append(pos)
        done.stations.append(pos)
    for station_id in gone:
        pos = _position(snap, station_id)
        if pos is not None and _searchable(snap, pos):
            _leave_buckets(snap, pos)
            snap.status[pos] = CLOSED
            searchable_changed = True
            regridded.append(pos)
            done.stations.append(pos)
    grid_patch.patch(snap, regridded, refiltered)  # the cluster grids hold positions, statuses, brands
    if searchable_changed:  # the remembered disks and search steps may hold a station that left or moved
        snap.disk_cache.clear()
        snap.step_hints.clear()
    return done
