"""Retention: prune deletes whole transactions older than `keep` before an explicit `now`; a cursor that
still needs one of them is told to resync, a cursor past them reads on; the CLI prunes and reports."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from changelog import BEGINNING, Cursor, InvalidCursor, Pruned, ResyncNeeded, head, prune, read_changes
from pricing import store
from tests.changelog.support import follow

ROOT = Path(__file__).resolve().parents[2]
KEEP = timedelta(days=7)


def _commit_level(engine: Engine, level: str) -> tuple[int, datetime]:
    with engine.begin() as conn:
        store.set_member_level(conn, level, {None: Decimal("0.1"), "92": Decimal("0.2")})
    with engine.connect() as conn:
        seq = head(conn)
        committed_at = conn.execute(
            text("SELECT committed_at FROM change_tx WHERE seq = :s"), {"s": seq}
        ).scalar_one()
    return seq, committed_at


def test_an_old_cursor_must_resync_a_current_one_reads_on(engine: Engine) -> None:
    with engine.connect() as conn:
        old = str(Cursor.after(head(conn)))
    a, _ = _commit_level(engine, "ret-a")
    b, b_at = _commit_level(engine, "ret-b")
    c, c_at = _commit_level(engine, "ret-c")
    assert a < b < c and b_at < c_at
    with engine.connect() as conn:
        halfway_through_b = str(Cursor(b, min(ch.id for ch in read_changes(conn, str(Cursor(b, 0))).changes)))
    now = b_at + (c_at - b_at) / 2 + KEEP  # b is older than KEEP at `now`, c is not
    seen: list[Pruned] = []
    done = prune(engine, KEEP, now, batch=1, progress=lambda p: seen.append(Pruned(**vars(p))))
    assert done.pruned_through == b and done.transactions >= 2 and done.changes >= 4
    assert seen[-1] == done and [p.transactions for p in seen] == list(range(1, done.transactions + 1))
    with engine.connect() as conn:
        for cursor in (old, BEGINNING, str(Cursor.after(a)), halfway_through_b):
            with pytest.raises(ResyncNeeded) as raised:
                read_changes(conn, cursor)
            assert raised.value.pruned_through == b
        assert head(conn) == c  # pruning keeps the head
        remaining = conn.execute(text("SELECT min(seq) FROM change_tx")).scalar_one()
    assert remaining == c
    changes, cursor = follow(engine, str(Cursor.after(b)))
    assert {ch.entity_key for ch in changes} == {"ret-c"} and cursor == str(Cursor.after(c))
    # pruning again with the same clock finds nothing more; a later clock takes c too
    assert prune(engine, KEEP, now) == Pruned(0, 0, b)
    assert prune(engine, KEEP, c_at + KEEP + timedelta(seconds=1)).pruned_through == c
    with pytest.raises(ResyncNeeded):
        follow(engine, str(Cursor.after(b)))
    assert follow(engine, str(Cursor.after(c))) == ([], str(Cursor.after(c)))


@pytest.mark.parametrize("bad", ["", "c1.0.0", "c1.1", "c2.1.0", "c1.1.x", "c1.99999999999999999999.0"])
def test_a_cursor_we_did_not_write_is_refused(engine: Engine, bad: str) -> None:
    with engine.connect() as conn, pytest.raises(InvalidCursor):
        read_changes(conn, bad)


def test_the_prune_cli_prunes_and_reports(engine: Engine, database_url: str) -> None:
    _commit_level(engine, "cli")
    env = {**os.environ, "DATABASE_URL": database_url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "changelog", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    # a retention of a century keeps everything just committed, whatever the date
    kept = run("prune", "--keep-days", "36500")
    assert kept.returncode == 0, kept.stderr
    assert "Pruned 0 transactions (0 changes)" in kept.stdout
    status = run("status")
    assert status.returncode == 0 and "head seq" in status.stdout
    assert run("prune", "--keep-days", "-1").returncode == 2
    assert run("prune").returncode == 2
