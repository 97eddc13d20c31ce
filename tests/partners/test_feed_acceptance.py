"""Issue 15's acceptance: several writers change prices and stations at once (threads on the real
PostGIS: price posts, renames and status changes, new and deleted stations) while a reader takes the
snapshot over HTTP and follows the feed with long-poll; the service restarts in the middle. The reader's
final state equals the database, and it saw every (transaction, station) change once, in commit order."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, text

from api.app import create_app
from api.settings import Settings
from geo.records import StationRecord
from tests.partners.support import FIXED, partner_key, post_price, state_of, stations
from tests.support import ThreadServer, insert_records
from timekeeping.clock import ManualClock

WRITES_PER_WRITER = 30
PACE_S = 0.1  # between a writer's transactions: the writing lasts past the snapshot and the restart


def _writers(
    engine: Engine, ids: list[int], stop: threading.Event, errors: list[BaseException]
) -> list[threading.Thread]:
    def prices(k: int) -> None:
        for n in range(WRITES_PER_WRITER):
            station = ids[(k * 11 + n * 5) % len(ids)]
            post_price(engine, station, f"7.{(k * 17 + n) % 90 + 10}", FIXED + timedelta(minutes=n * 3 + k))
            time.sleep(PACE_S)

    def records(k: int) -> None:
        for n in range(WRITES_PER_WRITER):
            station = ids[(k * 3 + n * 7) % len(ids)]
            status = ("open", "temporarily_closed")[n % 2]
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE stations SET name = :name, status = :status WHERE id = :id"),
                    {"name": f"w{k}-{n}", "status": status, "id": station},
                )
            time.sleep(PACE_S)

    def births_and_deaths(k: int) -> None:
        for n in range(WRITES_PER_WRITER // 3):
            (new,) = insert_records(
                engine, [StationRecord(name=f"新{k}-{n}", brand="shell", lon=102.8 + n * 0.001, lat=25.1)]
            )
            post_price(engine, new, "7.77", FIXED)
            if n % 2:
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM stations WHERE id = :id"), {"id": new})
            time.sleep(3 * PACE_S)

    def guarded(work: Any, k: int) -> None:
        try:
            work(k)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    jobs = [(prices, 0), (prices, 1), (records, 2), (births_and_deaths, 3)]
    return [threading.Thread(target=guarded, args=job) for job in jobs]


def _apply(
    state: dict[int, dict[str, Any]], seen: list[tuple[int, int]], items: list[dict[str, Any]]
) -> None:
    for item in items:
        seen.append((item["seq"], item["station_id"]))
        if item["deleted"]:
            state.pop(item["station_id"], None)
        else:
            state[item["station_id"]] = item["station"]


def _view(station: dict[str, Any]) -> tuple[str, str, dict[tuple[str, str], str]]:
    return station["name"], station["status"], state_of(station)


def test_reader_follows_snapshot_and_feed_across_a_restart_while_writers_commit(
    database_url: str, engine: Engine
) -> None:
    ids = stations(engine, 30)
    for station in ids[:10]:
        post_price(engine, station, "7.00", FIXED - timedelta(days=1))
    _, headers = partner_key(engine, "acceptance")
    settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "index_refresh_seconds": 0.1, "upkeep_every_seconds": 0}
    )
    server = ThreadServer(lambda: create_app(settings, ManualClock()))
    server.start()
    stop = threading.Event()
    errors: list[BaseException] = []
    writers = _writers(engine, ids, stop, errors)
    try:
        for w in writers:
            w.start()
        client = httpx.Client(base_url=server.base_url, timeout=30, headers=headers)
        snap = client.get("/v1/partner/snapshot")
        assert snap.status_code == 200
        lines = [orjson.loads(line) for line in snap.content.splitlines()]
        assert lines[-1]["type"] == "end"
        state = {x["station"]["id"]: x["station"] for x in lines[1:-1]}
        cursor, head = lines[-1]["cursor"], lines[-1]["head_seq"]
        seen: list[tuple[int, int]] = []
        pages, restarted, restarted_while_writing = 0, False, False
        while True:
            writing = any(w.is_alive() for w in writers)
            page = client.get(
                "/v1/partner/changes", params={"cursor": cursor, "limit": 5, "wait": 1 if writing else 0}
            )
            assert page.status_code == 200, page.text
            body = page.json()
            _apply(state, seen, body["items"])
            cursor = body["cursor"]
            pages += 1
            if pages == 2 and not restarted:  # the service goes away mid-stream and comes back
                client.close()
                server.stop()
                time.sleep(0.2)
                server.start()
                client = httpx.Client(base_url=server.base_url, timeout=30, headers=headers)
                restarted, restarted_while_writing = True, any(w.is_alive() for w in writers)
            if not writing and not body["items"] and not body["more"]:
                break
        client.close()
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=60)
        server.stop()
    assert errors == []
    assert restarted_while_writing and pages > 2
    assert seen == sorted(seen) and len(seen) == len(set(seen))  # in order, none twice
    with engine.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT DISTINCT t.seq, "
                "COALESCE(CASE WHEN l.entity = 'station' THEN l.entity_id END, l.station_id) AS station "
                "FROM change_tx t JOIN change_log l ON l.xid = t.xid "
                "WHERE t.seq > :head AND l.entity IN ('station', 'price') ORDER BY 1, 2"
            ),
            {"head": head},
        ).all()
        truth_rows = conn.execute(text("SELECT id, name, status FROM stations")).all()
        price_rows = conn.execute(
            text("SELECT station_id, grade, tier, price FROM station_prices WHERE effective_to IS NULL")
        ).all()
    assert seen == [(int(s), int(i)) for s, i in expected]  # every change, none missing
    truth: dict[int, tuple[str, str, dict[tuple[str, str], str]]] = {
        int(i): (name, status, {}) for i, name, status in truth_rows
    }
    for station_id, grade, tier, price in price_rows:
        truth[int(station_id)][2][(grade, tier)] = f"{price:.2f}"
    assert {k: _view(v) for k, v in state.items()} == truth
    assert len(seen) > 60  # the writers really overlapped the reader (most changes came by the feed)
