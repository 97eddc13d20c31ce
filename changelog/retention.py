"""Retention: delete whole transactions committed more than `keep` before `now`, oldest first, in batches
(each its own transaction), and record the seq pruned through so an older cursor is told to resync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

_TARGET = text("SELECT max(seq) FROM change_tx WHERE seq IS NOT NULL AND committed_at < :cutoff")
_PRUNED_THROUGH = text("SELECT pruned_through FROM change_counter")
_BATCH = text(
    """
    WITH gone AS (
        DELETE FROM change_tx
        WHERE seq IN (
            SELECT seq FROM change_tx WHERE seq IS NOT NULL AND seq <= :target ORDER BY seq LIMIT :n
        )
        RETURNING xid, seq
    ), rows AS (
        DELETE FROM change_log WHERE xid IN (SELECT xid FROM gone) RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM rows), (SELECT max(seq) FROM gone)
    """
)
# Last in each batch's transaction: the counter row is what commits wait on, so it is held only briefly.
_MARK = text(
    "UPDATE change_counter SET pruned_through = GREATEST(pruned_through, :through), pruned_at = :now"
)


@dataclass
class Pruned:
    transactions: int = 0
    changes: int = 0
    pruned_through: int = 0  # cursors needing this seq or an older one now get ResyncNeeded


def prune(
    engine: Engine,
    keep: timedelta,
    now: datetime,
    *,
    batch: int = 1000,
    progress: Callable[[Pruned], object] | None = None,
) -> Pruned:
    """Delete the transactions committed before `now - keep` (whole transactions: none is cut in two).

    `progress` is called after each committed batch with the running totals.
    """
    if keep < timedelta(0):
        raise ValueError("keep must not be negative")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    done = Pruned()
    with engine.connect() as conn:
        target = conn.execute(_TARGET, {"cutoff": now - keep}).scalar()
        done.pruned_through = int(
            conn.execute(text("SELECT pruned_through FROM change_counter")).scalar_one()
        )
    if target is None:
        return done
    while True:
        with engine.begin() as conn:
            transactions, changes, through = conn.execute(_BATCH, {"target": target, "n": batch}).one()
            if transactions == 0:
                break
            conn.execute(_MARK, {"through": through, "now": now})
        done.transactions += int(transactions)
        done.changes += int(changes)
        done.pruned_through = max(done.pruned_through, int(through))
        if progress is not None:
            progress(done)
    return done
