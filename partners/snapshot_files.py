"""Partner snapshots rendered by another process (partners/snapshot_render.py) and followed from its file:
the asking worker sends the gzip bytes as the renderer writes them, without holding its interpreter for the
read (the national snapshot at 1,000,000 stations takes about 35 s).

A finished file is kept per (partner, coordinate system) and sent again while at most `max_age_s` old: its
end cursor is where that partner's change feed continues, so an older cut is as consistent as a new one,
only further behind. 0 (the default) renders every request afresh. A renderer that fails before its first
byte is SnapshotUnavailable; one that fails later cuts the stream before its `end` line (a reader then
takes the snapshot again, as the route documents)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from geo.coords import CoordSystem
from partners.snapshot_render import fresh

_CHUNK = 1 << 20
_POLL_S = 0.05  # between looks at a file that is still growing


class SnapshotUnavailable(RuntimeError):
    """The renderer failed (its error output is in the message)."""


class SnapshotFiles:
    def __init__(self, directory: Path, database_url: str, max_age_s: float = 0.0) -> None:
        self.directory, self.database_url, self.max_age_s = directory, database_url, max_age_s

    def path(self, partner_id: int, coord: CoordSystem) -> Path:
        return self.directory / f"partner-{partner_id}-{coord.value}.ndjson.gz"

    async def open(self, partner_id: int, coord: CoordSystem, now: datetime) -> AsyncIterator[bytes]:
        """The gzip bytes of a complete snapshot for this partner and system: a fresh kept file, else one
        rendered now and followed as it grows. Raises SnapshotUnavailable before the first byte."""
        path = self.path(partner_id, coord)
        if fresh(path, self.max_age_s):
            return _whole(path.open("rb"))
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{path.name}.{uuid.uuid4().hex}.part"
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "partners.snapshot_render",
            "--partner-id",
            str(partner_id),
            "--coord",
            coord.value,
            "--now",
            now.isoformat(),
            "--out",
            str(path),
            "--partial",
            str(partial),
            "--max-age-seconds",
            str(self.max_age_s),
            env={**os.environ, "DATABASE_URL": self.database_url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        errors = asyncio.ensure_future(proc.communicate())
        while not partial.exists() and not errors.done():  # its first byte, or its end
            await asyncio.sleep(_POLL_S)
        if errors.done() and not partial.exists():
            _, err = errors.result()
            if proc.returncode != 0:
                raise SnapshotUnavailable(err.decode(errors="replace")[-2000:])
            return _whole(path.open("rb"))  # another renderer's file was fresh: nothing rendered
        return _follow(partial.open("rb"), errors, proc)


async def _whole(f: BinaryIO) -> AsyncIterator[bytes]:
    with f:
        while block := f.read(_CHUNK):
            yield block


async def _follow(
    f: BinaryIO, done: asyncio.Future[tuple[bytes, bytes]], proc: asyncio.subprocess.Process
) -> AsyncIterator[bytes]:
    """The file's bytes as they are written, until the renderer ends (its rename keeps this file open)."""
    try:
        with f:
            while True:
                block = f.read(_CHUNK)
                if block:
                    yield block
                elif done.done():
                    while block := f.read(_CHUNK):
                        yield block
                    if proc.returncode != 0:
                        raise SnapshotUnavailable(done.result()[1].decode(errors="replace")[-2000:])
                    return
                else:
                    await asyncio.sleep(_POLL_S)
    finally:
        if not done.done():  # the client went away: stop the renderer
            proc.kill()
            await done


async def plain(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The NDJSON inside gzip chunks (for a client that does not take gzip)."""
    decompressor = zlib.decompressobj(31)
    async for chunk in chunks:
        out = decompressor.decompress(chunk)
        if out:
            yield out
    tail = decompressor.flush()
    if tail:
        yield tail
