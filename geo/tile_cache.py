"""Rendered tiles of one worker, kept while the catalogue version they were rendered from is current.

The version is the snapshot's (`Snapshot.version`: the catalogue version, which the change-log follower
moves as it patches stations and a reload replaces); prices have their own version and never empty it.
A tile's ETag is a hash of its bytes, so a catalogue change elsewhere re-renders the tile but leaves its
ETag (and a client's 304) as it was when its content did not change."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_BYTES = 64 << 20  # per worker; past it the cache starts again (dense city tiles run to ~30 KB)


@dataclass(frozen=True, slots=True)
class Tile:
    body: bytes
    etag: str  # strong, quoted


def tile_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass
class TileCache:
    version: int = -1
    tiles: dict[tuple[str, int, int, int], Tile] = field(default_factory=dict)
    size: int = 0  # bytes held

    def get(self, version: int, key: tuple[str, int, int, int], render: Callable[[], bytes]) -> Tile:
        if version != self.version:
            self.tiles.clear()
            self.version, self.size = version, 0
        tile = self.tiles.get(key)
        if tile is None:
            body = render()
            if self.size + len(body) > MAX_BYTES:
                self.tiles.clear()
                self.size = 0
            tile = self.tiles[key] = Tile(body, tile_etag(body))
            self.size += len(body)
        return tile
