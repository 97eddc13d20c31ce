"""Fault injection for the client's fault tests (sandbox only): delays, holds and failures of order creation.

Per process: the reference order core runs one worker. A hold keeps each create call waiting until the
faults are cleared, so a test decides when a "slow" order core answers instead of racing a delay against
the client's timeout.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Faults:
    delay_ms: int = 0
    fail_status: int | None = None
    fail_count: int = 0  # how many next create calls fail; -1: all of them
    fail_after_commit: bool = False
    hold: bool = False  # every create call waits until the faults are cleared (at most HOLD_LIMIT_S)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Fault:
    """What to do to one create call."""

    delay_seconds: float
    fail_status: int | None
    after_commit: bool
    released: threading.Event | None = None  # a hold: wait for it (HOLD_LIMIT_S at most)


HOLD_LIMIT_S = 60.0  # a hold nobody clears ends anyway


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._released = threading.Event()

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            if not faults.hold:  # calls held so far go on
                self._released.set()
            elif self._released.is_set():
                self._released = threading.Event()

    def clear(self) -> None:
        self.set(Faults())

    def take(self) -> Fault | None:
        """The fault for the next create call (using up one of fail_count), None when there is none."""
        with self._lock:
            f = self._faults
            fail = f.fail_status if f.fail_status is not None and f.fail_count != 0 else None
            if fail is not None and f.fail_count > 0:
                self._faults = replace(f, fail_count=f.fail_count - 1)
            if fail is None and f.delay_ms == 0 and not f.hold:
                return None
            return Fault(f.delay_ms / 1000, fail, f.fail_after_commit, self._released if f.hold else None)
