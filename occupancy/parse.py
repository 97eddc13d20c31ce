"""Reading an occupancy batch: a JSON array or NDJSON of nozzle events and waiting-vehicle reports.

The whole body must be readable JSON (else UnreadableBatch: nothing is applied). Each item is then
checked on its own; a bad item becomes a Reject (its 0-based index in the batch, a machine code, a
reason) and the others go on. Times are RFC 3339 strings with an offset ("2026-11-22T08:00:01.250+08:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from occupancy.errors import BatchTooLarge, UnreadableBatch
from occupancy.events import NozzleState

_STATES = {s.value: s for s in NozzleState}
# The strict RFC 3339 shape PostgreSQL reads as sent; anything else Python accepted is re-formatted.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,6})?([Zz]|[+-]\d\d:\d\d)\Z")
_SMALLINT_MAX = 32767
# Telemetry is of this century: earlier times are refused (near year 1 an offset can even carry a time out
# of what Python reads back from PostgreSQL, which would fail every later read of the station).
EARLIEST_TS = datetime(2000, 1, 1, tzinfo=UTC)
_BIGINT_MAX = 2**63 - 1
MAX_WAITING = 500


@dataclass(frozen=True, slots=True)
class Reject:
    index: int
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class EventItem:
    index: int
    station_id: int
    position: int
    nozzle: int
    state: NozzleState
    ts: datetime  # timezone-aware
    seq: int
    ts_text: str  # as sent (checked RFC 3339): what the database parses, cheaper than re-formatting


@dataclass(frozen=True, slots=True)
class ReportItem:
    index: int
    station_id: int
    waiting_vehicles: int
    ts: datetime


@dataclass
class ParsedBatch:
    events: list[EventItem]
    reports: list[ReportItem]
    rejects: list[Reject]
    size: int  # items in the body


def read_items(body: bytes, ndjson: bool, max_items: int) -> list[Any]:
    """The raw items of a JSON array body or an NDJSON body (one JSON value per non-blank line)."""
    if ndjson:
        lines = [line for line in body.split(b"\n") if line.strip()]
        if len(lines) > max_items:
            raise BatchTooLarge(f"{len(lines)} items: at most {max_items} per request")
        try:
            return list(orjson.loads(b"[" + b",".join(lines) + b"]"))
        except orjson.JSONDecodeError:
            for number, line in enumerate(lines, start=1):
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise UnreadableBatch(f"NDJSON line {number} (non-blank) is not JSON: {exc}") from None
            raise UnreadableBatch("the NDJSON body is not readable") from None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UnreadableBatch(f"the body is not JSON: {exc}") from None
    if not isinstance(value, list):
        raise UnreadableBatch("the body must be a JSON array of items (or NDJSON with its content type)")
    if len(value) > max_items:
        raise BatchTooLarge(f"{len(value)} items: at most {max_items} per request")
    return value


def parse_batch(body: bytes, ndjson: bool, max_items: int) -> ParsedBatch:
    raw = read_items(body, ndjson, max_items)
    events: list[EventItem] = []
    reports: list[ReportItem] = []
    rejects: list[Reject] = []
    for index, item in enumerate(raw):
        try:
            if not isinstance(item, dict):
                raise _Bad("invalid_item", "an item must be a JSON object")
            if "waiting_vehicles" in item:
                reports.append(_report(index, item))
            else:
                events.append(_event(index, item))
        except _Bad as bad:
            rejects.append(Reject(index, bad.code, bad.reason))
    return ParsedBatch(events, reports, rejects, len(raw))


class _Bad(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _int(item: dict[str, Any], name: str, low: int, high: int) -> int:
    value = item.get(name)
    if value is None:
        raise _Bad("missing_field", f"{name} is required")
    if type(value) is not int:
        raise _Bad("invalid_field", f"{name} must be an integer")
    if not low <= value <= high:
        raise _Bad("invalid_field", f"{name} must be between {low} and {high}")
    return value


def parse_ts(value: object, name: str = "ts") -> datetime:
    if value is None:
        raise _Bad("missing_field", f"{name} is required")
    if (
        not isinstance(value, str)
        or len(value) < 20
        or value[10] not in "Tt "
        or value[4] != "-"
        or value[7] != "-"
    ):
        raise _Bad(
            "invalid_field", f"{name} must be an RFC 3339 time with offset, e.g. 2026-11-22T08:00:01+08:00"
        )
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad("invalid_field", f"{name} is not a valid RFC 3339 time: {value!r}") from None
    if ts.tzinfo is None:
        raise _Bad("invalid_field", f"{name} needs an offset (Z or +08:00): {value!r}")
    if ts < EARLIEST_TS:
        raise _Bad("invalid_field", f"{name} {value!r} is before {EARLIEST_TS.date()}")
    return ts


def _event(index: int, item: dict[str, Any]) -> EventItem:
    # Fast path for a well-formed event (the usual case); anything unusual takes the checks below.
    sid, pos, noz, seq = item.get("station_id"), item.get("position"), item.get("nozzle"), item.get("seq")
    raw_ts, raw_state = item.get("ts"), item.get("state")
    state = _STATES.get(raw_state) if type(raw_state) is str else None
    if (
        type(sid) is int
        and type(pos) is int
        and type(noz) is int
        and type(seq) is int
        and state is not None
        and type(raw_ts) is str
        and 0 < sid <= _BIGINT_MAX
        and 0 < pos <= _SMALLINT_MAX
        and 0 < noz <= _SMALLINT_MAX
        and 0 <= seq <= _BIGINT_MAX
        and _RFC3339.match(raw_ts)
    ):
        try:
            ts = datetime.fromisoformat(raw_ts)
            if ts >= EARLIEST_TS:
                return EventItem(index, sid, pos, noz, state, ts, seq, raw_ts)
        except ValueError:
            pass  # e.g. month 13: the checks below say so
    station_id = _int(item, "station_id", 1, _BIGINT_MAX)
    position = _int(item, "position", 1, _SMALLINT_MAX)
    nozzle = _int(item, "nozzle", 1, _SMALLINT_MAX)
    seq = _int(item, "seq", 0, _BIGINT_MAX)
    raw_state = item.get("state")
    if raw_state is None:
        raise _Bad("missing_field", "state is required")
    state = _STATES.get(raw_state) if isinstance(raw_state, str) else None
    if state is None:
        raise _Bad("invalid_field", f"state must be one of {', '.join(_STATES)}")
    raw_ts = item.get("ts")
    ts = parse_ts(raw_ts)
    text = raw_ts if isinstance(raw_ts, str) and _RFC3339.match(raw_ts) else ts.isoformat()
    return EventItem(index, station_id, position, nozzle, state, ts, seq, text)


def _report(index: int, item: dict[str, Any]) -> ReportItem:
    station_id = _int(item, "station_id", 1, _BIGINT_MAX)
    waiting = _int(item, "waiting_vehicles", 0, MAX_WAITING)
    return ReportItem(index, station_id, waiting, parse_ts(item.get("ts")))
