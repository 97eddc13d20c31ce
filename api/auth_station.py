"""Station authentication: `Authorization: Bearer <key_id>.<secret>` issued by access/ for one station.

A scrypt check costs ~50 ms of CPU, too much for controllers posting batches many times a second, so
each worker remembers successful checks (keyed by the token's SHA-256, never the token) in a bounded
cache. An entry older than `station_auth_cache_seconds` (default 30 s) is re-checked with one indexed
query (is the key id still unrevoked? its secret never changes) instead of another scrypt: a revoked
credential stops working within that time, not at once. Failed checks are never cached.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from access import credentials
from api.services import services_of

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="stationCredential",
    bearerFormat="<key_id>.<secret>",
    description="the station's API credential, issued with `python -m access.cli issue STATION_ID`",
)


class StationUnauthorized(Exception):
    """No station credential, or one that is unknown or revoked."""


class StationForbidden(Exception):
    """A valid credential of another station."""


class VerifiedTokens:
    """token SHA-256 -> (station id, revocation re-check due), at most `max_size` entries (oldest go first).
    Ages are measured on `monotonic` (the app clock's, so a test can age an entry without waiting)."""

    def __init__(
        self, ttl_s: float, max_size: int = 200_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._monotonic = monotonic
        self._entries: dict[bytes, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes) -> tuple[int, bool] | None:
        """(station id, whether the revocation re-check is due), or None when never verified here."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        return entry[0], entry[1] < self._monotonic()

    def drop(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def put(self, key: bytes, station_id: int) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_size:
                for old in list(self._entries)[: max(1, self.max_size // 10)]:
                    del self._entries[old]
            self._entries[key] = (station_id, self._monotonic() + self.ttl_s)


async def authenticated_station(
    request: Request, given: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> int:
    if given is None or not given.credentials:
        raise StationUnauthorized("a station credential is required: Authorization: Bearer <key_id>.<secret>")
    services = services_of(request)
    cache = services.verified_tokens
    token = given.credentials.strip()
    key = hashlib.sha256(token.encode()).digest()
    known = cache.get(key)
    if known is not None:
        if not known[1]:
            return known[0]
        station_id = await run_in_threadpool(
            credentials.live_station, services.engine, token.partition(".")[0]
        )
        if station_id != known[0]:
            cache.drop(key)
            raise StationUnauthorized("unknown or revoked station credential")
        cache.put(key, station_id)
        return station_id
    station_id = await run_in_threadpool(credentials.verify, services.engine, given.credentials)
    if station_id is None:
        raise StationUnauthorized("unknown or revoked station credential")
    cache.put(key, station_id)
    return station_id


StationAuthDep = Annotated[int, Depends(authenticated_station)]
