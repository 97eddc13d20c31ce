"""Partner snapshots served from files rendered by another process (partners/snapshot_render.py): the
asking worker awaits the renderer without holding its interpreter, then sends the finished file.

A file is kept per (partner, coordinate system) and served again while it is at most `max_age_s` old: its
end cursor is where that partner's change feed continues, so an older cut is as consistent as a new one,
only further behind. 0 (the default) renders every request afresh."""

from __future__ import annotations

import asyncio
import os
import sys
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from geo.coords import CoordSystem
from partners.snapshot_render import fresh

_CHUNK = 1 << 20


class SnapshotUnavailable(RuntimeError):
    """The renderer failed (its error output is in the message)."""


class SnapshotFiles:
    def __init__(self, directory: Path, database_url: str, max_age_s: float = 0.0) -> None:
        self.directory, self.database_url, self.max_age_s = directory, database_url, max_age_s

    def path(self, partner_id: int, coord: CoordSystem) -> Path:
        return self.directory / f"partner-{partner_id}-{coord.value}.ndjson.gz"

    async def ready(self, partner_id: int, coord: CoordSystem, now: datetime) -> Path:
        """The path of a complete gzip snapshot for this partner and system, rendered now unless fresh."""
        path = self.path(partner_id, coord)
        if fresh(path, self.max_age_s):
            return path
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
            "--max-age-seconds",
            str(self.max_age_s),
            env={**os.environ, "DATABASE_URL": self.database_url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        if proc.returncode != 0:
            raise SnapshotUnavailable(err.decode(errors="replace")[-2000:])
        return path


def plain_chunks(path: Path) -> Iterator[bytes]:
    """The file's NDJSON, decompressed chunk by chunk (for a client that does not take gzip)."""
    decompressor = zlib.decompressobj(31)
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            out = decompressor.decompress(block)
            if out:
                yield out
        tail = decompressor.flush()
        if tail:
            yield tail
