"""Effective-time windows: write one price per key at time t without overlaps (guide and station prices).

For each new (key, t, price): the row in force at t ('prev') and the start of the next row decide:
  * prev starts at t: same price -> unchanged (or confirmed: a later confirmed_at is kept); else the
    price is corrected in place (counted as updated);
  * prev covers t with the same price -> a re-confirmation: only confirmed_at moves (or unchanged);
  * otherwise prev is closed at t and a new row runs from t to the next row's start (NULL = current):
    inserted when the key had nothing before t, else updated.
A key appears at most once per round; repeated keys go to later rounds, in input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg2.extras import execute_batch, execute_values


@dataclass(frozen=True)
class Table:
    lookup: str
    insert: str
    close: str
    confirm: str
    correct: str


@dataclass(frozen=True)
class Entry:
    key: tuple[Any, ...]
    effective_from: datetime
    price: Decimal
    currency: str
    confirmed_at: datetime
    source: str
    extra: tuple[Any, ...] = ()  # further insert columns (guide prices: source_url)


OUTCOMES = ("inserted", "updated", "confirmed", "unchanged")


def _lookup_args(entries: Sequence[Entry]) -> tuple[Any, ...]:
    columns = list(zip(*(e.key for e in entries), strict=True))
    return (list(range(len(entries))), *(list(c) for c in columns), [e.effective_from for e in entries])


def _rounds(entries: Sequence[Entry]) -> list[list[int]]:
    rounds: list[list[int]] = []
    depth: dict[tuple[Any, ...], int] = {}
    for i, entry in enumerate(entries):
        level = depth.get(entry.key, -1) + 1
        depth[entry.key] = level
        if level == len(rounds):
            rounds.append([])
        rounds[level].append(i)
    return rounds


def write(cur: Any, table: Table, entries: Sequence[Entry]) -> list[str]:
    """Outcome per entry (one of OUTCOMES), in order. Runs inside the caller's transaction."""
    outcomes = [""] * len(entries)
    for indexes in _rounds(entries):
        batch = [entries[i] for i in indexes]
        cur.execute(table.lookup, _lookup_args(batch))
        found = {int(r[0]): r[1:] for r in cur.fetchall()}
        confirm: list[tuple[Any, ...]] = []
        correct: list[tuple[Any, ...]] = []
        close: list[tuple[Any, ...]] = []
        insert: list[tuple[Any, ...]] = []
        for j, entry in enumerate(batch):
            prev_id, prev_from, prev_to, prev_price, prev_cur, prev_confirmed, next_from = found[j]
            same = prev_id is not None and prev_price == entry.price and prev_cur == entry.currency
            covers = prev_id is not None and (prev_to is None or prev_to > entry.effective_from)
            if prev_id is not None and prev_from == entry.effective_from and not same:
                correct.append((entry.price, entry.currency, entry.source, entry.confirmed_at, prev_id))
                outcome = "updated"
            elif same and covers:
                outcome = "unchanged"
                if entry.confirmed_at > prev_confirmed:
                    confirm.append((entry.confirmed_at, prev_id))
                    outcome = "confirmed"
            else:
                if covers:
                    close.append((entry.effective_from, prev_id))
                insert.append(
                    (
                        *entry.key,
                        entry.price,
                        entry.currency,
                        entry.effective_from,
                        next_from,
                        entry.source,
                        entry.confirmed_at,
                        *entry.extra,
                    )
                )
                outcome = "inserted" if prev_id is None else "updated"
            outcomes[indexes[j]] = outcome
        if confirm:
            execute_batch(cur, table.confirm, confirm)
        if correct:
            execute_batch(cur, table.correct, correct)
        if close:
            execute_batch(cur, table.close, close)
        if insert:
            execute_values(cur, table.insert, insert)
    return outcomes


_PREV = """
LEFT JOIN LATERAL (
    SELECT p.id, p.effective_from, p.effective_to, p.price, p.currency, p.confirmed_at FROM {table} p
    WHERE {match} AND p.effective_from <= t.at ORDER BY p.effective_from DESC LIMIT 1
) prev ON true
LEFT JOIN LATERAL (
    SELECT min(p.effective_from) AS effective_from FROM {table} p WHERE {match} AND p.effective_from > t.at
) nxt ON true
"""
_SELECT = (
    "SELECT t.i, prev.id, prev.effective_from, prev.effective_to, prev.price, prev.currency, "
    "prev.confirmed_at, nxt.effective_from"
)

STATION_PRICES = Table(
    lookup=_SELECT
    + (
        " FROM unnest(%s::int[], %s::bigint[], %s::text[], %s::text[], %s::timestamptz[])"
        " AS t(i, station_id, grade, tier, at)"
    )
    + _PREV.format(
        table="station_prices", match="p.station_id = t.station_id AND p.grade = t.grade AND p.tier = t.tier"
    ),
    insert="INSERT INTO station_prices (station_id, grade, tier, price, currency, effective_from, "
    "effective_to, source, confirmed_at) VALUES %s",
    close="UPDATE station_prices SET effective_to = %s WHERE id = %s",
    confirm="UPDATE station_prices SET confirmed_at = %s WHERE id = %s",
    correct="UPDATE station_prices SET price = %s, currency = %s, source = %s, confirmed_at = %s "
    "WHERE id = %s",
)

GUIDE_PRICES = Table(
    lookup=_SELECT
    + (
        " FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])"
        " AS t(i, province_code, zone_code, grade, at)"
    )
    + _PREV.format(
        table="guide_prices",
        match="p.province_code = t.province_code AND p.zone_code = t.zone_code AND p.grade = t.grade",
    ),
    insert="INSERT INTO guide_prices (province_code, zone_code, grade, price, currency, effective_from, "
    "effective_to, source, confirmed_at, source_url) VALUES %s",
    close="UPDATE guide_prices SET effective_to = %s WHERE id = %s",
    confirm="UPDATE guide_prices SET confirmed_at = %s WHERE id = %s",
    correct="UPDATE guide_prices SET price = %s, currency = %s, source = %s, confirmed_at = %s WHERE id = %s",
)
