"""The partner change feed: after a cursor, which stations changed in each transaction (in commit order)
and their current values, read from the change log (changelog/) in one REPEATABLE READ transaction.

An item is one (transaction, station), in (seq, station id) order: `changed` says what (station record,
price, this partner's POI id), `station` the station's values as of the page's snapshot (`head_seq`,
never older than the item; a later item of the same station may repeat values), or `deleted`. Pages
end at transaction boundaries (a transaction is never split between pages), so an item appears once:
following `cursor` from page to page sees every change once, in order. The log's commit order and
gap-freedom are what make this hold under concurrent writers; this module only groups and reads
current rows in the same snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from changelog import Change, Cursor, InvalidCursor, ResyncNeeded, head, read_changes
from geo.coords import CoordSystem
from partners.errors import FeedResyncRequired
from partners.stations import stations_of
from timekeeping.rfc3339 import instant_text

__all__ = ["FeedPage", "InvalidCursor", "read_feed"]

PAGE_ROWS = 5_000  # change-log rows read per query
MAX_TRANSACTION_ROWS = 200_000  # a bigger transaction (a national reload) is a resync: take a snapshot
_KINDS = {"station": "station", "price": "price", "poi_id": "poi_id"}
_RESYNC_ON_TRUNCATE = {"station", "price", "poi_id"}


@dataclass
class FeedPage:
    items: list[dict[str, Any]]
    cursor: str  # where the next page starts (the request's cursor when nothing new committed)
    head_seq: int  # the page's snapshot: the last transaction committed when it was read
    more: bool  # more changes were committed after this page's cursor


@dataclass
class _Tx:
    seq: int
    committed_at: datetime
    stations: dict[int, set[str]] = field(default_factory=dict)  # station -> kinds


def _station_of(c: Change, partner_id: int) -> tuple[int, str] | None:
    kind = _KINDS.get(c.entity)
    if kind is None:
        return None
    if kind == "poi_id" and c.entity_key != str(partner_id):  # another partner's id: not this partner's news
        return None
    station = c.entity_id if kind == "station" else c.station_id
    return None if station is None else (int(station), kind)


def _transactions(changes: Sequence[Change], partner_id: int) -> list[_Tx]:
    out: list[_Tx] = []
    for c in changes:
        if c.op == "T" and c.entity in _RESYNC_ON_TRUNCATE:
            raise FeedResyncRequired(f"transaction {c.seq} emptied the {c.entity} table: take a new snapshot")
        if not out or out[-1].seq != c.seq:
            out.append(_Tx(c.seq, c.committed_at))
        found = _station_of(c, partner_id)
        if found is not None:
            out[-1].stations.setdefault(found[0], set()).add(found[1])
    return out


def read_feed(engine: Engine, after: str, partner_id: int, coord: CoordSystem, limit: int) -> FeedPage:
    """Up to `limit` items after cursor `after` (more only when one transaction alone holds more).

    Raises InvalidCursor (not a cursor), FeedResyncRequired (older than the retention, a truncated table,
    a transaction of more than MAX_TRANSACTION_ROWS rows)."""
    Cursor.parse(after)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            top = head(conn)
            chosen: list[_Tx] = []
            items = 0
            cursor = after
            buffered: list[Change] = []
            read_cursor = after
            more = False
            try:
                while True:
                    page = read_changes(conn, read_cursor, PAGE_ROWS)
                    read_cursor = page.cursor
                    buffered += page.changes
                    at_end = len(page.changes) < PAGE_ROWS
                    if len(buffered) > MAX_TRANSACTION_ROWS:
                        raise FeedResyncRequired(
                            f"transaction {buffered[0].seq} holds more than {MAX_TRANSACTION_ROWS} changes: "
                            "take a new snapshot"
                        )
                    # Transactions read to their end: all when the log is exhausted, else all but the last.
                    complete = buffered if at_end else [c for c in buffered if c.seq != buffered[-1].seq]
                    buffered = buffered[len(complete) :]
                    full = False
                    for tx in _transactions(complete, partner_id):
                        if chosen and items + len(tx.stations) > limit:
                            full = True
                            break
                        chosen.append(tx)
                        items += len(tx.stations)
                        cursor = str(Cursor.after(tx.seq))
                    if full or at_end or items >= limit:
                        more = full or not at_end or bool(buffered)
                        break
            except ResyncNeeded as exc:
                raise FeedResyncRequired(str(exc)) from None
            ids = sorted({s for tx in chosen for s in tx.stations})
            current = stations_of(conn, ids, partner_id, coord)
    out = []
    for tx in chosen:
        for station_id, kinds in sorted(tx.stations.items()):
            record = current.get(station_id)
            out.append(
                {
                    "seq": tx.seq,
                    "committed_at": instant_text(tx.committed_at),
                    "station_id": station_id,
                    "changed": sorted(kinds),
                    "deleted": record is None,
                    "station": record,
                }
            )
    return FeedPage(out, cursor, top, more)
