"""Column members remembered per price book: a station's `"prices"` or anonymous `"effective"` member
depends only on its prices in the book and on which of their confirmations are stale, so it is computed
once and served again while the staleness cut-off (`fresh_since` = now - stale_after) stays in the same
interval between those confirmation times. A new book (a price change) starts an empty memo."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable

from pricing.pricebook import PriceBook

_CAP = 200_000  # members per table; a full table is cleared

Window = tuple[float, float]  # (lo, hi]: fresh_since values for which a member holds
ALWAYS: Window = (-math.inf, math.inf)


def window(confirmations: Iterable[int], fresh_since: float) -> Window:
    """The interval of `fresh_since` around this one in which each confirmation keeps its staleness
    (stale: confirmed < fresh_since): above the latest stale one, at most the earliest fresh one."""
    lo, hi = ALWAYS
    for confirmed in confirmations:
        if confirmed < fresh_since:
            lo = max(lo, confirmed)
        else:
            hi = min(hi, confirmed)
    return lo, hi


Entry = tuple[bytes, float, float]  # member, window lo, window hi
_TABLES = 64  # tables per book (a kind x grade x fill each); all cleared when one more is asked for


def held(entry: Entry | None, fresh_since: float) -> bytes | None:
    """The entry's member if it holds at this cut-off."""
    if entry is None or not entry[1] < fresh_since <= entry[2]:
        return None
    return entry[0]


class MemberMemo:
    """Per book, tables of members by snapshot position (one per kind of member, grade and fill: a table
    lookup hashes its key once per request, a member lookup only the position). Event loop only."""

    def __init__(self) -> None:
        self._book: PriceBook | None = None
        self._tables: dict[Hashable, dict[int, Entry]] = {}

    def table(self, book: PriceBook, key: Hashable) -> dict[int, Entry]:
        if self._book is not book:
            self._book, self._tables = book, {}
        found = self._tables.get(key)
        if found is None:
            if len(self._tables) >= _TABLES:
                self._tables = {}
            found = self._tables[key] = {}
        elif len(found) >= _CAP:
            found.clear()
        return found

    def forget(self, positions: list[int]) -> None:
        """The stations at these positions changed in place (a change-log patch of the book)."""
        for table in self._tables.values():
            for pos in positions:
                table.pop(pos, None)
