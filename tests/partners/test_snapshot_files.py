"""Snapshots rendered by a process of their own into a gzip file: the same lines as the in-process stream,
sent again while young enough (its end cursor still continues the feed), rendered again once not, and a
renderer that fails is an error, never half a file."""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine

from geo.coords import CoordSystem
from partners.changes import read_feed
from partners.snapshot_files import SnapshotFiles, SnapshotUnavailable, plain
from tests.partners.conftest import ME
from tests.partners.support import FIXED, post_price, snapshot, state_of, stations


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg2", "postgresql")


def _taken(files: SnapshotFiles, coord: CoordSystem) -> tuple[bytes, list[dict[str, Any]]]:
    """What a client receives (the gzip bytes as they were followed) and its lines."""

    async def take() -> bytes:
        return b"".join([chunk async for chunk in await files.open(ME, coord, FIXED)])

    body = asyncio.run(take())
    return body, [orjson.loads(line) for line in gzip.decompress(body).splitlines()]


async def _inflated(body: bytes) -> bytes:
    async def chunks() -> AsyncIterator[bytes]:
        for k in range(0, len(body), 1000):  # in pieces, as they arrive from the file
            yield body[k : k + 1000]

    return b"".join([piece async for piece in plain(chunks())])


def test_the_file_holds_the_streamed_snapshot_and_is_sent_again_while_young(
    feed_engine: Engine, tmp_path: Path
) -> None:
    ids = stations(feed_engine, 3)
    post_price(feed_engine, ids[0], "7.50", FIXED)
    kept = SnapshotFiles(tmp_path, _url(feed_engine), max_age_s=3600)
    body, first = _taken(kept, CoordSystem.GCJ02)
    assert first == snapshot(feed_engine, ME, CoordSystem.GCJ02)  # what the worker streamed before
    path = kept.path(ME, CoordSystem.GCJ02)
    assert path.read_bytes() == body  # the followed bytes are the kept file
    assert asyncio.run(_inflated(body)) == gzip.decompress(body)  # what a client without gzip gets
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]

    post_price(feed_engine, ids[0], "7.20", FIXED)
    _, again = _taken(kept, CoordSystem.GCJ02)
    assert again == first  # young enough: the same cut, not rendered again
    page = read_feed(feed_engine, first[-1]["cursor"], ME, CoordSystem.GCJ02, 100)
    assert [state_of(i["station"]) for i in page.items if i.get("station")] == [{("92", "pump"): "7.20"}]

    fresh = SnapshotFiles(tmp_path, _url(feed_engine), max_age_s=0)
    _, latest = _taken(fresh, CoordSystem.GCJ02)
    assert latest[-1]["head_seq"] > first[-1]["head_seq"]
    assert state_of(latest[1]["station"]) == {("92", "pump"): "7.20"}
    _, other = _taken(fresh, CoordSystem.WGS84)
    assert other[0]["coord"] == "wgs84" and other[1]["station"]["location"] == {"lon": 102.71, "lat": 25.04}


def test_a_renderer_that_fails_leaves_no_file(feed_engine: Engine, tmp_path: Path) -> None:
    stations(feed_engine, 1)
    broken = SnapshotFiles(tmp_path, "postgresql://nobody@127.0.0.1:1/none", max_age_s=0)
    with pytest.raises(SnapshotUnavailable):
        _taken(broken, CoordSystem.WGS84)
    assert os.listdir(tmp_path) in ([], ["partner-900001-wgs84.ndjson.gz.lock"])
