"""LISTEN change_log: a transaction's notification, its seq, arrives when it commits, not before."""

from __future__ import annotations

import select
import time
from decimal import Decimal

import psycopg2
import psycopg2.extensions
from sqlalchemy import Engine, text

from changelog import CHANNEL, cursor_at_head
from pricing import store
from tests.changelog.support import follow

WAIT = 30.0


def test_the_notification_arrives_at_commit_with_the_seq(engine: Engine, database_url: str) -> None:
    listener = psycopg2.connect(database_url)
    try:
        listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
        with listener.cursor() as cur:
            cur.execute(f"LISTEN {CHANNEL}")
        with engine.connect() as conn:
            start = cursor_at_head(conn)
        with engine.connect() as writer:
            writer.begin()
            pid = int(writer.execute(text("SELECT pg_backend_pid()")).scalar_one())
            store.set_member_level(writer, "notified", {None: Decimal("0.1")})
            listener.poll()
            assert [n for n in listener.notifies if n.pid == pid] == []  # written, not committed: nothing
            writer.commit()
        [change] = follow(engine, start)[0]
        deadline = time.monotonic() + WAIT
        while not [n for n in listener.notifies if n.pid == pid]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "no notification within the wait"
            select.select([listener], [], [], remaining)
            listener.poll()
        [note] = [n for n in listener.notifies if n.pid == pid]
        assert (note.channel, note.payload) == (CHANNEL, str(change.seq))
    finally:
        listener.close()
