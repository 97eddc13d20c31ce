"""The snapshot is one consistent cut of the change log and the feed continues it with no gap and no
overlap; the feed groups changes per (transaction, station) with current values; deletions, truncations,
retention; each partner sees only its own POI ids."""

from __future__ import annotations

import threading
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import Engine, text

import changelog
from geo.coords import CoordSystem, from_wgs84
from partners import poi
from partners.changes import read_feed
from partners.errors import FeedResyncRequired, PoiIdTaken
from partners.snapshot import snapshot_lines
from tests.partners.conftest import ME, OTHER
from tests.partners.support import FIXED, at_head, follow, post_price, snapshot, state_of, stations


def test_snapshot_lists_every_station_with_prices_and_ends_with_the_head_cursor(feed_engine: Engine) -> None:
    ids = stations(feed_engine, 3)
    post_price(feed_engine, ids[0], "7.89", FIXED)
    post_price(feed_engine, ids[0], "8.25", FIXED, grade="95")
    lines = snapshot(feed_engine, ME, CoordSystem.GCJ02)
    header, *body, end = lines
    assert header["type"] == "header" and header["coord"] == "gcj02"
    assert [line["station"]["id"] for line in body] == ids
    first = body[0]["station"]
    assert state_of(first) == {("92", "pump"): "7.89", ("95", "pump"): "8.25"}
    assert body[1]["station"]["prices"] == []
    lon, lat = from_wgs84(102.71, 25.04, CoordSystem.GCJ02)
    assert first["location"] == {"lon": round(lon, 6), "lat": round(lat, 6)}
    with feed_engine.connect() as conn:
        head = changelog.head(conn)
    assert end == {"type": "end", "cursor": f"c1.{head + 1}.0", "head_seq": head, "stations": 3}
    assert header["head_seq"] == head


def test_a_change_committed_while_the_snapshot_streams_is_in_the_feed_not_in_the_snapshot(
    feed_engine: Engine,
) -> None:
    ids = stations(feed_engine, 5)
    post_price(feed_engine, ids[4], "7.00", FIXED)
    stream = snapshot_lines(feed_engine, ME, CoordSystem.WGS84, FIXED)
    chunks = [next(stream)]  # the header: the snapshot's transaction has read the head
    post_price(feed_engine, ids[4], "7.50", FIXED + timedelta(hours=1))  # commits meanwhile
    chunks += list(stream)
    lines = [orjson.loads(x) for x in b"".join(chunks).splitlines()]
    last = next(
        line["station"] for line in lines if line["type"] == "station" and line["station"]["id"] == ids[4]
    )
    assert state_of(last) == {("92", "pump"): "7.00"}  # as of the snapshot's head
    items, _ = follow(feed_engine, lines[-1]["cursor"], ME)
    assert len(items) == 1
    assert items[0]["station_id"] == ids[4] and items[0]["changed"] == ["price"]
    assert state_of(items[0]["station"]) == {("92", "pump"): "7.50"}


def test_the_feed_gives_one_item_per_transaction_and_station_in_commit_order(feed_engine: Engine) -> None:
    ids = stations(feed_engine, 3)
    start = at_head(feed_engine)
    post_price(feed_engine, ids[1], "7.10", FIXED)
    with feed_engine.begin() as conn:  # one transaction, two stations, two kinds
        conn.execute(text("UPDATE stations SET status = 'temporarily_closed' WHERE id = :id"), {"id": ids[0]})
        conn.execute(text("UPDATE stations SET name = '新名' WHERE id = :id"), {"id": ids[2]})
    post_price(feed_engine, ids[0], "7.20", FIXED)
    items, cursor = follow(feed_engine, start, ME)
    assert [(i["station_id"], i["changed"]) for i in items] == [
        (ids[1], ["price"]),
        (ids[0], ["station"]),
        (ids[2], ["station"]),
        (ids[0], ["price"]),
    ]
    assert items[1]["seq"] == items[2]["seq"] < items[3]["seq"]
    assert items[1]["station"]["status"] == "temporarily_closed"
    assert items[2]["station"]["name"] == "新名"
    # Nothing after the last cursor: the same cursor back, no items.
    again = read_feed(feed_engine, cursor, ME, CoordSystem.WGS84, 100)
    assert again.items == [] and again.cursor == cursor and not again.more


def test_pages_end_at_transaction_boundaries(feed_engine: Engine) -> None:
    ids = stations(feed_engine, 6)
    start = at_head(feed_engine)
    with feed_engine.begin() as conn:  # one transaction of 4 stations
        conn.execute(text("UPDATE stations SET name = name || '!' WHERE id = ANY(:ids)"), {"ids": ids[:4]})
    post_price(feed_engine, ids[5], "7.10", FIXED)
    first = read_feed(feed_engine, start, ME, CoordSystem.WGS84, 2)
    assert [i["station_id"] for i in first.items] == ids[:4]  # the whole transaction, over the limit
    assert first.more
    second = read_feed(feed_engine, first.cursor, ME, CoordSystem.WGS84, 2)
    assert [i["station_id"] for i in second.items] == [ids[5]] and not second.more
    one_by_one, _ = follow(feed_engine, start, ME, limit=1)
    assert [i["station_id"] for i in one_by_one] == [*ids[:4], ids[5]]


def test_a_deleted_station_is_a_deletion(feed_engine: Engine) -> None:
    ids = stations(feed_engine, 2)
    start = at_head(feed_engine)
    with feed_engine.begin() as conn:
        conn.execute(text("DELETE FROM stations WHERE id = :id"), {"id": ids[0]})
    items, _ = follow(feed_engine, start, ME)
    deleted = [i for i in items if i["station_id"] == ids[0]]
    assert deleted and all(i["deleted"] and i["station"] is None for i in deleted)
    assert {k for i in deleted for k in i["changed"]} >= {"station"}


def test_a_partner_sees_only_its_own_poi_ids(feed_engine: Engine) -> None:
    ids = stations(feed_engine, 2)
    start = at_head(feed_engine)
    with feed_engine.begin() as conn:
        poi.attach(conn, ME, ids[0], "mine-1")
        poi.attach(conn, OTHER, ids[0], "theirs-1")
    with feed_engine.begin() as conn:
        poi.attach(conn, OTHER, ids[1], "theirs-2")
    mine, _ = follow(feed_engine, start, ME)
    assert [(i["station_id"], i["changed"]) for i in mine] == [(ids[0], ["poi_id"])]
    assert mine[0]["station"]["poi_id"] == "mine-1"
    theirs, _ = follow(feed_engine, start, OTHER)
    assert [(i["station_id"], i["station"]["poi_id"]) for i in theirs] == [
        (ids[0], "theirs-1"),
        (ids[1], "theirs-2"),
    ]
    by_id = {line["station"]["id"]: line["station"] for line in snapshot(feed_engine, ME)[1:-1]}
    assert by_id[ids[0]]["poi_id"] == "mine-1" and by_id[ids[1]]["poi_id"] is None
    with feed_engine.begin() as conn:
        assert poi.station_by_poi(conn, OTHER, "theirs-2", CoordSystem.WGS84)["id"] == ids[1]
        with pytest.raises(PoiIdTaken):
            poi.attach(conn, ME, ids[1], "mine-1")


def test_an_old_cursor_or_a_truncation_asks_for_a_resync(feed_engine: Engine) -> None:
    ids = stations(feed_engine, 1)
    start = at_head(feed_engine)
    post_price(feed_engine, ids[0], "7.10", FIXED)
    changelog.prune(feed_engine, timedelta(0), FIXED + timedelta(days=3650))
    with pytest.raises(FeedResyncRequired):
        read_feed(feed_engine, start, ME, CoordSystem.WGS84, 10)
    later = at_head(feed_engine)
    with feed_engine.begin() as conn:
        conn.execute(text("TRUNCATE station_prices"))
    with pytest.raises(FeedResyncRequired):
        read_feed(feed_engine, later, ME, CoordSystem.WGS84, 10)


def test_writers_racing_a_reader_from_a_snapshot_end_equal_the_database(feed_engine: Engine) -> None:
    """Several writers commit prices and renames in overlapping transactions while a reader
    takes a snapshot and follows the feed: every change once, in commit order; final state = the tables."""
    ids = stations(feed_engine, 40)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            n = 0
            while not stop.is_set() and n < 40:
                station = ids[(k * 7 + n * 3) % len(ids)]
                if n % 5 == 4:
                    with feed_engine.begin() as conn:
                        conn.execute(
                            text("UPDATE stations SET name = :name WHERE id = :id"),
                            {"name": f"w{k}-{n}", "id": station},
                        )
                else:
                    post_price(
                        feed_engine,
                        station,
                        f"7.{(k * 10 + n) % 90 + 10}",
                        FIXED + timedelta(minutes=n * 4 + k),
                    )
                n += 1
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    lines = snapshot(feed_engine, ME)
    state = {line["station"]["id"]: line["station"] for line in lines[1:-1]}
    cursor = lines[-1]["cursor"]
    seen: list[tuple[int, int]] = []
    while any(t.is_alive() for t in threads):
        page = read_feed(feed_engine, cursor, ME, CoordSystem.WGS84, 7)
        for item in page.items:
            seen.append((item["seq"], item["station_id"]))
            if item["deleted"]:
                state.pop(item["station_id"], None)
            else:
                state[item["station_id"]] = item["station"]
        cursor = page.cursor
    for t in threads:
        t.join()
    rest, _ = follow(feed_engine, cursor, ME, limit=7)
    for item in rest:
        seen.append((item["seq"], item["station_id"]))
        state[item["station_id"]] = item["station"]
    assert errors == []
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    with feed_engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT DISTINCT t.seq, "
                "COALESCE(CASE WHEN l.entity = 'station' THEN l.entity_id END, l.station_id) "
                "FROM change_tx t JOIN change_log l ON l.xid = t.xid "
                "WHERE t.seq > :head AND l.entity IN ('station', 'price') ORDER BY 1, 2"
            ),
            {"head": lines[-1]["head_seq"]},
        ).all()
    assert seen == [(int(s), int(i)) for s, i in expected]
    truth = {s["id"]: s for s in (line["station"] for line in snapshot(feed_engine, ME)[1:-1])}
    assert {k: (v["name"], state_of(v)) for k, v in state.items()} == {
        k: (v["name"], state_of(v)) for k, v in truth.items()
    }
