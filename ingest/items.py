"""What an adapter yields: a parsed station with its line number, or a rejected row with the reason."""

from __future__ import annotations

from dataclasses import dataclass

from geo.records import StationRecord


class SourceError(Exception):
    """The file as a whole cannot be read (wrong format, missing header columns, missing side file)."""


class BadRow(ValueError):
    """Raised inside an adapter for a row that must be rejected; the message is the reject reason."""


@dataclass(frozen=True)
class Parsed:
    line: int
    record: StationRecord
    raw: str

    @property
    def key(self) -> tuple[str, str]:
        return self.record.identifiers[0]


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    raw: str


Item = Parsed | Reject
