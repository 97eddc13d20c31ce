"""Reading the change log in commit order: pages of changes after a cursor, the head, the resync signal.

Order is (seq, id): seq numbers transactions in commit order (migration 0008), id the rows within one, so
a transaction of 600,000 COPYed prices pages like any other. A seq becomes visible only after every
smaller seq is (each is taken under the counter row's lock, held until commit), so a reader that has seen
seq n has seen everything up to n, whatever order the writers began or wrote in. All SQL is parameterised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from changelog.cursor import Cursor

# pg_notify('change_log', '<seq>') is sent by every transaction that changed something, at its commit.
CHANNEL = "change_log"
DEFAULT_LIMIT = 1000

# change_log_rows(xid, after id, n) (migration 0008) reads one transaction's rows along the (xid, id) key.
# The rest of the cursor's transaction:
_REST = text(
    """
    SELECT t.seq, l.id, l.xid, l.entity, l.entity_id, l.entity_key, l.station_id, l.position_id, l.op,
           l.changed_at, t.committed_at
    FROM change_tx t CROSS JOIN LATERAL change_log_rows(t.xid, :id, :n) l
    WHERE t.seq = :seq
    ORDER BY l.id
    """
)
# Whole transactions from seq on, each read as far as the page needs:
_FROM = text(
    """
    SELECT t.seq, l.id, l.xid, l.entity, l.entity_id, l.entity_key, l.station_id, l.position_id, l.op,
           l.changed_at, t.committed_at
    FROM (SELECT seq, xid, committed_at FROM change_tx WHERE seq >= :seq ORDER BY seq LIMIT :n) t
    CROSS JOIN LATERAL change_log_rows(t.xid, 0, :n) l
    ORDER BY t.seq, l.id
    LIMIT :n
    """
)
_COUNTER = text("SELECT seq, pruned_through FROM change_counter")


class ResyncNeeded(Exception):
    """The cursor points at transactions retention has deleted: re-read the current rows, then follow from
    a cursor_at_head() taken before that re-read."""

    def __init__(self, cursor: Cursor, pruned_through: int) -> None:
        super().__init__(
            f"change-log cursor {cursor} needs transaction {cursor.seq}, "
            f"but retention pruned through {pruned_through}: resync"
        )
        self.cursor = cursor
        self.pruned_through = pruned_through


@dataclass(frozen=True)
class Change:
    """One changed row: which entity (its bigint id or text key, and its station where known), not values.

    op: 'I' inserted, 'U' updated, 'D' deleted, 'T' truncated (every row of the entity is gone).
    """

    seq: int
    id: int
    xid: int
    entity: str
    entity_id: int | None
    entity_key: str | None
    station_id: int | None
    position_id: int | None
    op: str
    changed_at: datetime
    committed_at: datetime


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    cursor: str  # where the next read starts (the same cursor when nothing new was committed)


def _counter(conn: Connection) -> tuple[int, int]:
    seq, pruned_through = conn.execute(_COUNTER).one()
    return int(seq), int(pruned_through)


def head(conn: Connection) -> int:
    """The seq of the last committed transaction in the log (0 before any): a reader's lag is head - seq."""
    return _counter(conn)[0]


def cursor_at_head(conn: Connection) -> str:
    """A cursor that reads only what commits from now on."""
    return str(Cursor.after(head(conn)))


def read_changes(conn: Connection, after: str, limit: int = DEFAULT_LIMIT) -> Page:
    """Up to `limit` changes committed after cursor `after`, in commit order, and the cursor to read on.

    Raises ResyncNeeded when retention has pruned a transaction the cursor still needs, InvalidCursor when
    `after` is not a cursor. Re-reading from the same cursor returns the same changes (until pruned).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    cursor = Cursor.parse(after)
    # One row more than asked for says whether the page ends with its last transaction.
    rows = []
    if cursor.id > 0:
        rows = list(conn.execute(_REST, {"seq": cursor.seq, "id": cursor.id, "n": limit + 1}))
    if len(rows) <= limit:
        first = cursor.seq + 1 if cursor.id > 0 else cursor.seq
        rows.extend(conn.execute(_FROM, {"seq": first, "n": limit + 1 - len(rows)}))
    # After the reads: a prune committed before a read's snapshot is seen here too (a pruned_through read
    # first could miss a prune that then deleted what the reads were about to return). Pruning goes oldest
    # first, so any transaction the reads needed and missed means pruned_through >= cursor.seq.
    pruned_through = _counter(conn)[1]
    if cursor.seq <= pruned_through:
        raise ResyncNeeded(cursor, pruned_through)
    changes = [Change(*row) for row in rows[:limit]]
    if not changes:
        return Page([], str(cursor))
    last = changes[-1]
    more_of_last = len(rows) > limit and rows[limit].seq == last.seq
    next_cursor = Cursor(last.seq, last.id) if more_of_last else Cursor.after(last.seq)
    return Page(changes, str(next_cursor))
