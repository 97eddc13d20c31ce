"""Occupancy domain errors (no HTTP status here: api/errors.py maps them)."""

from __future__ import annotations


class OccupancyError(Exception):
    """Base of the occupancy errors."""


class UnknownPosition(OccupancyError):
    """The station has no fueling position with this number."""


class ClaimConflict(OccupancyError):
    """The claim's ref is already held for another station or position."""


class UnreadableBatch(OccupancyError):
    """The body is not a JSON array or NDJSON of objects."""


class BatchTooLarge(OccupancyError):
    """More items (or bytes) than one request may carry."""


class GradeNotSold(OccupancyError):
    """The station has no fueling position serving this grade."""


class OccupancyNotReady(OccupancyError):
    """The worker's live state is still loading."""


class MomentNotRetained(OccupancyError):
    """The moment asked about is older than the raw events the book keeps can answer exactly."""
