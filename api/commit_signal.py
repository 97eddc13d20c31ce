"""Wakes long-polling requests of this worker when a change-log transaction commits: one LISTEN
connection per worker (the log's NOTIFY channel), read by the event loop; waiters wait for the next
generation. A waiter takes the generation before it reads, so a commit between its read and its wait
is never missed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Engine

from changelog import CHANNEL


class CommitSignal:
    def __init__(self) -> None:
        self.generation = 0
        self._event = asyncio.Event()

    def committed(self) -> None:
        self.generation += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait_after(self, generation: int, timeout_s: float) -> bool:
        """Until a commit after `generation` (True) or the timeout (False)."""
        if self.generation != generation:
            return True
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout=timeout_s)
        except TimeoutError:
            return self.generation != generation
        return True


@contextlib.asynccontextmanager
async def listening(engine: Engine) -> AsyncIterator[CommitSignal]:
    signal = CommitSignal()
    raw = engine.raw_connection()
    dbapi: Any = raw.driver_connection
    dbapi.autocommit = True
    with dbapi.cursor() as cur:
        cur.execute(f"LISTEN {CHANNEL}")

    def readable() -> None:
        dbapi.poll()
        if dbapi.notifies:
            dbapi.notifies.clear()
            signal.committed()

    loop = asyncio.get_running_loop()
    loop.add_reader(dbapi.fileno(), readable)
    try:
        yield signal
    finally:
        loop.remove_reader(dbapi.fileno())
        raw.close()
