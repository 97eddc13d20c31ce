"""A snapshot patched in place answers like one rebuilt from the patched rows (geo/patch.py)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from geo.cells import cells_of
from geo.live_index import compute_open_state
from geo.nearby import NearbyQuery, nearest_stations
from geo.patch import patch_stations
from geo.services import service_mask
from geo.snapshot import Snapshot, build_snapshot
from tests.geo.synthetic import rows

AT = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 11:00 in Shanghai
NIGHT = orjson.dumps({"weekly": {"mon": [["20:00", "23:00"]]}}).decode()


def _changed(row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(
        ["rename", "close", "reopen", "move", "hours", "brand", "services", "address", "region"]
    )
    new = dict(row)
    if kind == "rename":
        new["name"] = row["name"] + "·新"
    elif kind == "close":
        new["status"] = "closed"
    elif kind == "reopen":
        new["status"] = "open"
    elif kind == "move":
        new["lon"], new["lat"] = row["lon"] + rng.uniform(-0.05, 0.05), row["lat"] + rng.uniform(-0.05, 0.05)
        cells = cells_of(new["lon"], new["lat"])
        new["h3_r5"], new["h3_r7"] = cells[5], cells[7]
    elif kind == "hours":
        new["opening_hours"] = NIGHT
    elif kind == "services":
        new["services"] = ["car_wash"] if "car_wash" not in row["services"] else []
    elif kind == "address":
        new["address"] = "新建路" + row["address"]
    elif kind == "region":
        new["province"], new["city"], new["adcode"] = "山西省", "大同市", "140200"
    else:
        new["brand"] = "shell" if row["brand"] != "shell" else "sinopec"
    return new


def _in(snap: Snapshot, query: NearbyQuery, region: str | None) -> NearbyQuery:
    if region is None:
        return query
    return replace(query, places=tuple(snap.regions.resolve(region).places))


def test_patches_answer_like_a_rebuild() -> None:
    current = rows(3000, seed=11)
    snap = build_snapshot(current, version=1)
    schedules = len(snap.schedules.always_open)
    rng = random.Random(3)
    by_id = {r["id"]: r for r in current}
    for _ in range(400):  # the same stations changed again and again
        station_id = rng.choice(list(by_id)[:60])
        by_id[station_id] = _changed(by_id[station_id], rng)
        done = patch_stations(snap, [by_id[station_id]], [])
        assert not done.unknown
    # a rebuilt snapshot holds only the searchable rows: compare what searches and renders answer
    rebuilt = build_snapshot([r for r in by_id.values() if r["status"] != "closed"], version=1)
    patched_open, rebuilt_open = compute_open_state(snap, AT), compute_open_state(rebuilt, AT)
    for r in list(by_id.values())[:80]:
        for brands, services, words, region in (
            ((), 0, (), None),
            (("shell",), 0, (), None),
            ((), service_mask(["car_wash"]), ("新建路",), None),
            ((), 0, (), "大同"),
        ):
            query = NearbyQuery(
                lon=r["lon"],
                lat=r["lat"],
                radius_m=8000,
                limit=30,
                brands=brands,
                open_now=True,
                services=services,
                words=words,
            )
            got = nearest_stations(snap, _in(snap, query, region), patched_open)
            want = nearest_stations(rebuilt, _in(rebuilt, query, region), rebuilt_open)
            assert snap.ids[got.positions].tolist() == rebuilt.ids[want.positions].tolist()
            assert [snap.fragments[p] for p in got.positions] == [
                rebuilt.fragments[p] for p in want.positions
            ]
    # the same hours text reuses its schedule: 400 patches added at most the one new schedule
    assert len(snap.schedules.always_open) <= schedules + 1


def test_a_station_the_snapshot_never_held_is_reported_and_a_deletion_leaves_the_search() -> None:
    current = rows(500, seed=5)
    snap = build_snapshot(current, version=1)
    new = dict(current[0], id=10_000_000)
    assert patch_stations(snap, [new], []).unknown == [10_000_000]
    gone = current[1]
    patch_stations(snap, [], [gone["id"]])
    page = nearest_stations(snap, NearbyQuery(lon=gone["lon"], lat=gone["lat"], radius_m=50_000, limit=100))
    assert gone["id"] not in snap.ids[page.positions].tolist()
