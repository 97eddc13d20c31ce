"""Tokens a worker has verified recently, so that a request does not pay scrypt (~50 ms) each time.

Keyed by the token's SHA-256 (never the token), at most `max_size` entries (the oldest tenth goes when
full), each due for a re-check `ttl_s` seconds after it was verified (measured on `monotonic`, the app
clock's, so a test can age an entry without waiting). Failed checks are never kept. One cache serves
partner keys (verified again when due) and station credentials (whose revocation is re-checked when due).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def token_key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class VerifiedCache(Generic[T]):
    def __init__(
        self, ttl_s: float, max_size: int = 100_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._monotonic = monotonic
        self._entries: dict[bytes, tuple[T, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes) -> T | None:
        """The value while it is younger than the ttl, else None."""
        found = self.lookup(key)
        return None if found is None or found[1] else found[0]

    def lookup(self, key: bytes) -> tuple[T, bool] | None:
        """(value, whether the ttl has passed: re-check it), or None when never verified here; for a
        caller that re-checks cheaply (a revocation lookup) rather than verifying again."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        return entry[0], entry[1] < self._monotonic()

    def drop(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def put(self, key: bytes, value: T) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_size:
                for old in list(self._entries)[: max(1, self.max_size // 10)]:
                    del self._entries[old]
            self._entries[key] = (value, self._monotonic() + self.ttl_s)
