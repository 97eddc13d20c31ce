"""Commit order, not sequence order: writers that begin and write first but commit last are read after the
ones that committed before them; a reader following the log (and one restarted from its saved cursor
string, mid-transaction too) sees every change exactly once, in commit order, while they write."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Connection, Engine, text

from access import credentials
from changelog import Change, Cursor, cursor_at_head, head, read_changes
from demodata.generator import generate
from demodata.load import load
from pricing import store
from pricing.offers import StackingPolicy
from tests.api.test_nearby_features import station
from tests.changelog.support import FIXED, PRICE_COPY, follow, logged, price_copy, put_price, where
from tests.ingest.support import ingest
from tests.support import LiveServer, insert_records

WAIT = 60.0  # generous: a wait that runs out is a failure, never a pass
AUTH = {"Authorization": "Bearer dev-operator-token"}
XID = text("SELECT pg_current_xact_id()::text::bigint")


def test_a_plain_id_cursor_skips_a_late_commit_the_seq_cursor_does_not(engine: Engine) -> None:
    with engine.connect() as conn:
        cursor = cursor_at_head(conn)
        last_id = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM change_log")).scalar_one())
    plain_seen: list[int] = []
    seq_seen: list[Change] = []

    def read_both() -> None:
        nonlocal last_id, cursor
        with engine.connect() as conn:
            ids = conn.execute(
                text("SELECT id FROM change_log WHERE id > :id ORDER BY id"), {"id": last_id}
            ).scalars()
            plain_seen.extend(ids)
            last_id = max([last_id, *plain_seen])
            page = read_changes(conn, cursor)
            seq_seen.extend(page.changes)
            cursor = page.cursor

    with engine.connect() as t1:
        t1.begin()
        store.set_member_level(t1, "early", {None: Decimal("0.1")})  # T1 writes first: the smaller id
        with engine.begin() as t2:
            store.set_member_level(t2, "late", {None: Decimal("0.2")})  # T2 writes later, commits first
        read_both()
        t1.commit()
    read_both()
    early_id, late_id = sorted(c.id for c in seq_seen)
    assert plain_seen == [late_id]  # the id cursor moved past early_id before T1 committed: skipped
    assert [(c.entity_key, c.id) for c in seq_seen] == [("late", late_id), ("early", early_id)]
    assert seq_seen[0].seq + 1 == seq_seen[1].seq


@dataclass
class Reader:
    """Follows the log from a cursor string in its own thread, opening a new connection and keeping only
    the cursor string when it restarts (every `restart_every` pages)."""

    engine: Engine
    cursor: str
    limit: int
    restart_every: int | None
    writers_done: threading.Event = field(default_factory=threading.Event)
    changes: list[Change] = field(default_factory=list)
    restarts: int = 0
    restarts_mid_transaction: int = 0
    reads_while_writing: int = 0
    error: BaseException | None = None
    _seen: threading.Condition = field(default_factory=threading.Condition)

    def run(self) -> None:
        try:
            while self._session():
                self.restarts += 1
                self.restarts_mid_transaction += Cursor.parse(self.cursor).id > 0
        except BaseException as exc:  # reported by the test
            self.error = exc
            with self._seen:
                self._seen.notify_all()

    def _session(self) -> bool:
        """Read until the writers are done and the log is drained (False) or it is time to restart (True)."""
        pages = 0
        with self.engine.connect() as conn:
            while True:
                finished = self.writers_done.is_set()  # before the read: then the read sees every commit
                page = read_changes(conn, self.cursor, self.limit)
                conn.rollback()
                if page.changes:
                    with self._seen:
                        self.changes.extend(page.changes)
                        self.cursor = page.cursor
                        self.reads_while_writing += not finished
                        self._seen.notify_all()
                    pages += 1
                    if self.restart_every and pages % self.restart_every == 0:
                        return True
                elif finished:
                    return False
                else:
                    time.sleep(0.005)  # polling pace only: no outcome depends on it

    def wait_for(self, match: Callable[[Change], bool]) -> None:
        with self._seen:
            ok = self._seen.wait_for(lambda: self.error is not None or any(map(match, self.changes)), WAIT)
        assert ok and self.error is None, self.error or "the reader did not see the change in time"


def _guarded(errors: list[BaseException], work: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    return threading.Thread(target=run, daemon=True)


@contextmanager
def _transaction(engine: Engine) -> Iterator[tuple[Connection, list[int]]]:
    """An open transaction the test commits when it says so (on leaving the block); yields its xid too."""
    with engine.connect() as conn:
        conn.begin()
        xid: list[int] = []
        yield conn, xid
        xid.append(int(conn.execute(XID).scalar_one()))
        conn.commit()


OWN_CSV = (
    "source,external_id,name,brand,lon,lat,coord,opening_hours,services,grades,status,positions,adcode\n"
    + ("".join(f'own,CO{i},并发测试站{i},,121.4{i},31.2{i},,,,,open,"92,95",\n' for i in range(1, 4)))
)


@pytest.mark.parametrize("restart_every", [None, 3], ids=["one-reader", "reader-restarted"])
def test_overlapping_writers_are_read_once_in_commit_order(
    server: LiveServer, engine: Engine, database_url: str, tmp_path: Path, restart_every: int | None
) -> None:
    s1, s2, s3 = insert_records(
        engine, [station("并发一", 0), station("并发二", 300), station("并发三", 600)]
    )
    token1, token3 = credentials.issue(engine, s1).token, credentials.issue(engine, s3).token
    with engine.connect() as conn:
        start_seq, cursor = head(conn) + 1, cursor_at_head(conn)
    reader = Reader(engine, cursor, limit=50, restart_every=restart_every)
    reader_thread = threading.Thread(target=reader.run, daemon=True)
    reader_thread.start()

    # Writers running freely meanwhile: price PUTs over HTTP, the stations ingest (a transaction a station).
    (tmp_path / "own.csv").write_text(OWN_CSV, encoding="utf-8")
    errors: list[BaseException] = []

    def puts() -> None:
        for i in range(12):
            put_price(server, s1, token1, f"{7.5 + i / 100:.2f}", FIXED + timedelta(minutes=i))

    background = [
        _guarded(errors, puts),
        _guarded(
            errors, lambda: ingest(engine, "csv", tmp_path / "own.csv", tmp_path / "r.csv", batch_size=1)
        ),
    ]
    for thread in background:
        thread.start()

    # 1. A COPY of prices begins and writes first; an operator change over HTTP commits while it is open,
    #    and is read before the COPY commits.
    copy = psycopg2.connect(database_url)
    try:
        with copy.cursor() as cur:
            cur.copy_expert(PRICE_COPY, price_copy(s2, 400))
            cur.execute("SELECT pg_current_xact_id()::text::bigint")
            [copy_xid] = cur.fetchone() or (None,)
        level = {"discounts": [{"grade": None, "per_litre": "0.1"}]}
        assert (
            server.client.put("/v1/operator/member-levels/lvl-a", json=level, headers=AUTH).status_code == 200
        )
        reader.wait_for(lambda c: c.entity_key == "lvl-a")
        copy.commit()
    finally:
        copy.close()

    # 2. An operator change (the stacking policy) begins and writes first; the demo loader's COPY of 40
    #    stations commits while it is open.
    with _transaction(engine) as (conn, policy_xid):
        store.set_policy(conn, StackingPolicy(max_coupons=2), None)
        loader = psycopg2.connect(database_url)
        try:
            loaded = load(loader, generate(40, 3), chunk_size=15)
        finally:
            loader.close()
        reader.wait_for(lambda c: c.entity == "station_identifier" and str(c.entity_key).startswith("synth"))

    # 3. A plain SQL status change begins and writes first; a station's price PUT commits while it is open.
    with _transaction(engine) as (conn, status_xid):
        conn.execute(text("UPDATE stations SET status = 'temporarily_closed' WHERE id = :id"), {"id": s2})
        put_price(server, s3, token3, "8.10", FIXED)
        reader.wait_for(lambda c: c.entity == "price" and c.station_id == s3)

    for thread in background:
        thread.join(WAIT)
    assert not errors, errors
    reader.writers_done.set()
    reader_thread.join(WAIT)
    assert not reader_thread.is_alive() and reader.error is None, reader.error

    # Exactly once, in commit order: the reader's (seq, id) are the log's, in order, no gap in the seqs.
    with engine.connect() as conn:
        last = head(conn)
    truth = logged(engine, start_seq)
    assert [(c.seq, c.id) for c in reader.changes] == truth
    assert sorted({seq for seq, _ in truth}) == list(range(start_seq, last + 1))
    changes = reader.changes
    seq_of_xid = {c.xid: c.seq for c in changes}
    # Whoever committed first has the smaller seq, although it began (and wrote) second.
    [lvl_a] = where(changes, lambda c: c.entity_key == "lvl-a")
    assert lvl_a < seq_of_xid[copy_xid]
    [loader_seq] = where(
        changes, lambda c: c.entity == "station_identifier" and str(c.entity_key).startswith("synth")
    )
    assert loader_seq < seq_of_xid[policy_xid[0]]
    [put3_seq] = where(changes, lambda c: c.entity == "price" and c.station_id == s3)
    assert put3_seq < seq_of_xid[status_xid[0]]
    # and every writer's changes are there
    assert sum(c.xid == copy_xid for c in changes) == 400
    assert (
        sum(c.entity == "station" and c.op == "I" and c.seq == loader_seq for c in changes) == loaded.stations
    )
    assert sum(c.entity == "price" and c.op == "I" and c.station_id == s1 for c in changes) == 12
    assert {c.entity_key for c in changes if c.entity == "station_identifier"} >= {
        "own/CO1",
        "own/CO2",
        "own/CO3",
    }
    assert reader.reads_while_writing > 0
    if restart_every:
        assert reader.restarts >= 3 and reader.restarts_mid_transaction >= 1


def test_rolled_back_work_leaves_no_change_and_no_gap(engine: Engine) -> None:
    with engine.connect() as conn:
        start = head(conn)
    with engine.connect() as conn:
        conn.begin()
        store.set_member_level(conn, "rolled-back", {None: Decimal("0.1")})
        conn.rollback()
    with engine.begin() as conn:
        savepoint = conn.begin_nested()
        store.set_member_level(conn, "in-a-savepoint", {None: Decimal("0.1")})  # the tx row goes with it
        savepoint.rollback()
        store.set_member_level(conn, "kept", {None: Decimal("0.2")})
    changes = follow(engine, str(Cursor.after(start)))[0]
    assert [(c.seq, c.entity_key) for c in changes] == [(start + 1, "kept")]
