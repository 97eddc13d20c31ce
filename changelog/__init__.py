"""The change log: which stations, positions, nozzles, prices, promotions and statuses changed, in commit
order (migration 0008 captures; this package reads, prunes and names cursors).

A reader keeps an opaque cursor string, calls read_changes(conn, cursor) and re-reads the current rows of
the entities it is told about; LISTEN on CHANNEL wakes it when a transaction commits. A cursor older than
the retention raises ResyncNeeded: re-read everything, then follow from the cursor_at_head() taken first.
"""

from __future__ import annotations

from changelog.cursor import BEGINNING, Cursor, InvalidCursor
from changelog.reader import CHANNEL, Change, Page, ResyncNeeded, cursor_at_head, head, read_changes
from changelog.retention import Pruned, prune

__all__ = [
    "BEGINNING",
    "CHANNEL",
    "Change",
    "Cursor",
    "InvalidCursor",
    "Page",
    "Pruned",
    "ResyncNeeded",
    "cursor_at_head",
    "head",
    "prune",
    "read_changes",
]
