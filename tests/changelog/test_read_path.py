"""Reading a small transaction stays cheap beside a huge one: after a bulk load, one transaction can hold
nearly all of the log (the demo load's 3.15 M of 3.26 M rows), and the statistics then say any xid matches
half the table. The read must still go straight to the cursor's transaction along the (xid, id) key
(migration 0014), not walk the log in id order filtering on xid (0.5–2.9 s a read before it).

The skew is built in a database of its own, so no live server of another test follows its made-up rows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from changelog import Cursor, head, read_changes
from db.engine import make_engine
from pricing import store

ROOT = Path(__file__).resolve().parents[2]
NAME = "changelog_read_path_test"
BULK = 200_000

_BLOCKS = text(
    "SELECT sum(pg_stat_get_xact_blocks_fetched(c.oid)) FROM pg_class c "
    "WHERE c.oid = 'change_log'::regclass "
    "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'change_log'::regclass)"
)


@pytest.fixture
def skewed(database_url: str) -> Iterator[Engine]:
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {NAME}")
        cur.execute(f"CREATE DATABASE {NAME}")
    url = make_url(database_url).set(database=NAME).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
        yield engine
    finally:
        engine.dispose()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {NAME}")
        admin.close()


def _blocks(conn: Connection) -> int:
    return int(conn.execute(_BLOCKS).scalar_one())


def test_a_small_transaction_is_read_without_walking_a_huge_one(skewed: Engine) -> None:
    with skewed.begin() as conn:
        store.set_member_level(conn, "bulk", {None: Decimal("0.1")})
        # The bulk load's rows, as its COPY's triggers would have logged them in this one transaction.
        conn.execute(
            text(
                "INSERT INTO change_log (xid, entity, entity_id, station_id, op) "
                "SELECT pg_current_xact_id()::text::bigint, 'price', g, g, 'I' FROM generate_series(1, :n) g"
            ),
            {"n": BULK},
        )
    with skewed.connect() as conn:
        bulk = head(conn)
    for level in ("small-a", "small-b", "small-c"):
        with skewed.begin() as conn:
            store.set_member_level(conn, level, {None: Decimal("0.2"), "92": Decimal("0.3")})
    with skewed.begin() as conn:
        conn.execute(text("ANALYZE change_log"))
    with skewed.begin() as conn:
        assert head(conn) == bulk + 3
        before = _blocks(conn)
        page = read_changes(conn, str(Cursor.after(bulk)))
        fetched = _blocks(conn) - before
    assert {c.entity_key for c in page.changes} == {"small-a", "small-b", "small-c"}
    assert [c.seq for c in page.changes] == sorted(c.seq for c in page.changes)
    # A few index and heap pages per transaction, against thousands for a walk of the bulk rows.
    assert fetched < 60, f"{fetched} blocks fetched to read 3 small transactions"
    with skewed.begin() as conn:
        # and the huge one still pages from where its cursor stands
        first = read_changes(conn, str(Cursor(bulk, 0)), limit=500)
        second = read_changes(conn, first.cursor, limit=500)
    ids = [c.id for c in first.changes + second.changes]
    assert len(ids) == 1000 and ids == sorted(ids) and len(set(ids)) == 1000
    assert all(c.seq == bulk for c in first.changes + second.changes)
