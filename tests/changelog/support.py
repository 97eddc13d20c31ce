"""Helpers for the change-log tests: follow the log to its end, read what it holds, write prices by COPY."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from changelog import Change, read_changes
from tests.support import LiveServer

FIXED = datetime.fromisoformat("2026-06-01T08:00:00+08:00")  # prices and loads are stamped with this


def follow(engine: Engine, cursor: str, limit: int = 1000) -> tuple[list[Change], str]:
    """Every change committed after `cursor`, read page by page until a page comes back empty."""
    changes: list[Change] = []
    with engine.connect() as conn:
        while True:
            page = read_changes(conn, cursor, limit)
            if not page.changes:
                return changes, cursor
            changes.extend(page.changes)
            cursor = page.cursor


def logged(engine: Engine, from_seq: int) -> list[tuple[int, int]]:
    """(seq, id) of every logged row of the transactions from `from_seq` on, straight from the tables."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.seq, l.id FROM change_tx t JOIN change_log l ON l.xid = t.xid "
                "WHERE t.seq >= :s ORDER BY t.seq, l.id"
            ),
            {"s": from_seq},
        ).all()
    return [(int(s), int(i)) for s, i in rows]


def kinds(changes: list[Change]) -> dict[tuple[str, str], int]:
    """How many changes of each (entity, op)."""
    found: dict[tuple[str, str], int] = {}
    for c in changes:
        found[(c.entity, c.op)] = found.get((c.entity, c.op), 0) + 1
    return found


def price_copy(station_id: int, rows: int, grade: str = "92") -> io.BytesIO:
    """COPY text rows of past pump prices for a station, one minute apart (closed windows)."""
    lines = []
    for i in range(rows):
        start = FIXED - timedelta(days=30) + timedelta(minutes=i)
        end = start + timedelta(minutes=1)
        lines.append(
            f"{station_id}\t{grade}\tpump\t{7 + i % 100 / 100:.3f}\t{start.isoformat()}\t{end.isoformat()}"
            f"\tcopy-test\t{start.isoformat()}\n"
        )
    return io.BytesIO("".join(lines).encode())


PRICE_COPY = (
    "COPY station_prices (station_id, grade, tier, price, effective_from, effective_to, source, "
    "confirmed_at) FROM STDIN"
)


def put_price(server: LiveServer, station_id: int, token: str, price: str, at: datetime) -> None:
    body = {"prices": [{"grade": "92", "tier": "pump", "price": price, "effective_from": at.isoformat()}]}
    response = server.client.put(
        f"/v1/stations/{station_id}/prices", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1, response.text


def where(changes: list[Change], match: Callable[[Change], bool]) -> set[int]:
    """The seqs of the transactions holding a change that matches."""
    return {c.seq for c in changes if match(c)}
