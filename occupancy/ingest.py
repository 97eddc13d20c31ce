"""Storing a station's batch: validation against its layout and stored history, then set-based writes.

One transaction per batch under `pg_advisory_xact_lock(station_id)`, so two workers never interleave one
station's checks and writes. Per nozzle, events are taken in seq order; each must be a possible
transition from its nearest lower neighbour (stored or accepted in this batch) and to its nearest
higher stored neighbour (a late event fills a gap), with time not going backwards as seq increases.
The statements per batch do not grow with its size: lock, heads, (neighbours of late events), insert
events, move heads, (reports).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

from occupancy.events import ALLOWED_NEXT, NozzleEvent, NozzleState, WaitingReport, transition_allowed
from occupancy.layouts import Layout
from occupancy.parse import EventItem, ParsedBatch, Reject, ReportItem

FUTURE_TOLERANCE = timedelta(minutes=5)
_NO_LIMIT = datetime.min.replace(tzinfo=UTC)
_SQL = Path(__file__).with_name("sql")


def _sql(name: str) -> sa.TextClause:
    return sa.text((_SQL / name).read_text())


_LOCK = sa.text("SELECT pg_advisory_xact_lock(:station_id)")
_HEADS = sa.text("SELECT position, nozzle, seq, state, ts FROM nozzle_heads WHERE station_id = :station_id")
_NEIGHBOURS = _sql("event_neighbours.sql")
_INSERT_EVENTS = _sql("insert_events.sql")
_MOVE_HEADS = _sql("move_heads.sql")
_INSERT_REPORTS = _sql("insert_reports.sql")
_EXISTING_REPORTS = sa.text(
    "SELECT ts, waiting_vehicles FROM waiting_reports WHERE station_id = :station_id "
    "AND ts = ANY(CAST(:ts AS timestamptz[]))"
)


def _ints(values: list[int]) -> str:
    """An array literal: psycopg2 adapts a list element by element (~10 µs per event for five lists)."""
    return "{" + ",".join(map(str, values)) + "}"


def _texts(values: list[str]) -> str:
    """An array literal of values without quotes or backslashes (states, checked RFC 3339 times)."""
    return '{"' + '","'.join(values) + '"}'


class _Known(NamedTuple):
    seq: int
    state: NozzleState
    ts: datetime


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejects: list[Reject] = field(default_factory=list)
    events: list[tuple[int, NozzleEvent]] = field(default_factory=list)  # (row id, event) stored now
    reports: list[tuple[int, WaitingReport]] = field(default_factory=list)


def ingest_batch(
    conn: sa.Connection,
    station_id: int,
    layout: Layout | None,
    batch: ParsedBatch,
    now: datetime,
    *,
    oldest: datetime | None = None,
) -> IngestResult:
    """Validate and store one batch posted with `station_id`'s credential, in the caller's transaction.

    Items before `oldest` (the retention of stored events: their day may be dropped already, and with it
    what would tell a repeat from a new event) are refused as `expired_ts`."""
    result = IngestResult(rejects=list(batch.rejects))
    latest = now + FUTURE_TOLERANCE
    earliest = oldest or _NO_LIMIT
    nozzles: dict[tuple[int, int], list[EventItem]] = {}
    valid = (
        {(number, n) for number, p in layout.items() for n in p.nozzle_grades}
        if layout is not None
        else set()
    )
    for ev in batch.events:
        key = (ev.position, ev.nozzle)
        if (
            key in valid and ev.station_id == station_id and earliest <= ev.ts <= latest
        ):  # the usual case, checked at once
            group = nozzles.get(key)
            if group is None:
                nozzles[key] = [ev]
            else:
                group.append(ev)
            continue
        code = _static_problem(ev.station_id, station_id, layout, ev.ts, latest, earliest)
        if code is None and layout is not None:
            position = layout.get(ev.position)
            if position is None:
                code = ("unknown_position", f"station {station_id} has no fueling position {ev.position}")
            elif ev.nozzle not in position.nozzle_grades:
                code = ("unknown_nozzle", f"position {ev.position} has no nozzle {ev.nozzle}")
        if code is not None:
            result.rejects.append(Reject(ev.index, *code))
        else:
            nozzles.setdefault((ev.position, ev.nozzle), []).append(ev)
    reports: list[ReportItem] = []
    for rep in batch.reports:
        code = _static_problem(rep.station_id, station_id, layout, rep.ts, latest, earliest)
        if code is not None:
            result.rejects.append(Reject(rep.index, *code))
        else:
            reports.append(rep)
    if not nozzles and not reports:
        result.rejects.sort(key=lambda r: r.index)
        return result
    conn.execute(_LOCK, {"station_id": station_id})
    if nozzles:
        _store_events(conn, station_id, nozzles, result)
    if reports:
        _store_reports(conn, station_id, reports, result)
    result.rejects.sort(key=lambda r: r.index)
    return result


def _static_problem(
    item_station: int,
    station_id: int,
    layout: Layout | None,
    ts: datetime,
    latest: datetime,
    earliest: datetime,
) -> tuple[str, str] | None:
    if item_station != station_id:
        return ("other_station", f"this credential posts for station {station_id} only, not {item_station}")
    if layout is None:
        return ("unknown_station", f"station {station_id} is not in the catalogue")
    if ts > latest:
        return ("future_ts", f"ts {ts.isoformat()} is more than 5 minutes ahead of the server clock")
    if ts < earliest:
        return ("expired_ts", f"ts {ts.isoformat()} is before the stored history ({earliest.isoformat()})")
    return None


def _store_events(
    conn: sa.Connection,
    station_id: int,
    nozzles: dict[tuple[int, int], list[EventItem]],
    result: IngestResult,
) -> None:
    heads = {
        (int(r.position), int(r.nozzle)): _Known(int(r.seq), NozzleState(r.state), r.ts)
        for r in conn.execute(_HEADS, {"station_id": station_id})
    }
    late = [
        ev for key, evs in nozzles.items() if (head := heads.get(key)) for ev in evs if ev.seq <= head.seq
    ]
    same: dict[tuple[int, int, int], _Known] = {}
    lower: dict[tuple[int, int, int], _Known] = {}
    upper: dict[tuple[int, int, int], _Known] = {}
    if late:
        params = {
            "station_id": station_id,
            "positions": _ints([ev.position for ev in late]),
            "nozzles": _ints([ev.nozzle for ev in late]),
            "seqs": _ints([ev.seq for ev in late]),
        }
        for r in conn.execute(_NEIGHBOURS, params):
            k3 = (int(r.position), int(r.nozzle), int(r.seq))
            if r.same_state is not None:
                same[k3] = _Known(k3[2], NozzleState(r.same_state), r.same_ts)
            if r.prev_seq is not None:
                lower[k3] = _Known(int(r.prev_seq), NozzleState(r.prev_state), r.prev_ts)
            if r.next_seq is not None:
                upper[k3] = _Known(int(r.next_seq), NozzleState(r.next_state), r.next_ts)
    accepted: list[EventItem] = []
    new_heads: list[EventItem] = []
    for key, evs in nozzles.items():
        evs.sort(key=_seq_then_index)
        head = heads.get(key)
        if head is None or evs[0].seq > head.seq:  # the usual case: nothing late on this nozzle
            top = _in_order(evs, head, accepted, result)
            if top is not None:
                new_heads.append(top)
            continue
        last: EventItem | None = None  # the last accepted event of this batch on this nozzle
        for ev in evs:
            k = (key[0], key[1], ev.seq)
            if last is not None and last.seq == ev.seq:
                _same_or_conflict(ev, _Known(last.seq, last.state, last.ts), result)
                continue
            if k in same:
                _same_or_conflict(ev, same[k], result)
                continue
            if head is not None and ev.seq > head.seq:
                below: _Known | None = head
                above: _Known | None = None
            else:
                below, above = lower.get(k), upper.get(k)
            if last is not None and (below is None or last.seq > below.seq):
                below = _Known(last.seq, last.state, last.ts)
            problem = _transition_problem(below, ev, above)
            if problem is not None:
                result.rejects.append(Reject(ev.index, *problem))
                continue
            accepted.append(ev)
            last = ev
        if last is not None and (head is None or last.seq > head.seq):
            new_heads.append(last)
    if not accepted:
        return
    by_key = {(ev.position, ev.nozzle, ev.seq): ev for ev in accepted}
    rows = conn.execute(
        _INSERT_EVENTS,
        {
            "station_id": station_id,
            "positions": _ints([ev.position for ev in accepted]),
            "nozzles": _ints([ev.nozzle for ev in accepted]),
            "seqs": _ints([ev.seq for ev in accepted]),
            "states": _texts([ev.state for ev in accepted]),
            "ts": _texts([ev.ts_text for ev in accepted]),
        },
    ).all()
    for row_id, position, nozzle, seq in rows:
        ev = by_key[(position, nozzle, seq)]
        result.events.append(
            (
                int(row_id),
                NozzleEvent(station_id, ev.position, ev.nozzle, ev.state, ev.ts.timestamp(), ev.seq),
            )
        )
    result.accepted += len(rows)
    result.duplicates += len(accepted) - len(
        rows
    )  # only a concurrent writer without the lock could cause this
    if new_heads:
        conn.execute(
            _MOVE_HEADS,
            {
                "station_id": station_id,
                "positions": _ints([ev.position for ev in new_heads]),
                "nozzles": _ints([ev.nozzle for ev in new_heads]),
                "seqs": _ints([ev.seq for ev in new_heads]),
                "states": _texts([ev.state for ev in new_heads]),
                "ts": _texts([ev.ts_text for ev in new_heads]),
            },
        )


def _seq_then_index(ev: EventItem) -> tuple[int, int]:
    return (ev.seq, ev.index)


def _in_order(
    evs: list[EventItem], head: _Known | None, accepted: list[EventItem], result: IngestResult
) -> EventItem | None:
    """One nozzle's events, all above its stored head, in seq order: each checked against the one before
    (the head first). Returns the last accepted one (the new head), if any. Same rules as the general
    path, without its neighbour lookups."""
    allowed = ALLOWED_NEXT
    prev_seq, prev_state, prev_ts = (head.seq, head.state, head.ts) if head is not None else (-1, None, None)
    last: EventItem | None = None
    for ev in evs:
        if prev_state is not None and prev_ts is not None:
            if ev.seq == prev_seq:
                _same_or_conflict(ev, _Known(prev_seq, prev_state, prev_ts), result)
                continue
            if ev.ts < prev_ts or not (
                ev.seq - prev_seq > 1 or ev.state is prev_state or ev.state in allowed[prev_state]
            ):
                problem = _transition_problem(_Known(prev_seq, prev_state, prev_ts), ev, None)
                assert problem is not None
                result.rejects.append(Reject(ev.index, *problem))
                continue
        accepted.append(ev)
        last = ev
        prev_seq, prev_state, prev_ts = ev.seq, ev.state, ev.ts
    return last


def _same_or_conflict(ev: EventItem, known: _Known, result: IngestResult) -> None:
    if known.state == ev.state and known.ts == ev.ts:
        result.duplicates += 1
    else:
        result.rejects.append(
            Reject(
                ev.index,
                "seq_conflict",
                f"seq {ev.seq} of position {ev.position} nozzle {ev.nozzle} is already "
                f"{known.state.value} at {known.ts.isoformat()}",
            )
        )


def _transition_problem(below: _Known | None, ev: EventItem, above: _Known | None) -> tuple[str, str] | None:
    if below is not None:
        if ev.ts < below.ts:
            return ("ts_order", f"ts {ev.ts.isoformat()} is before seq {below.seq}'s {below.ts.isoformat()}")
        if not transition_allowed(below.state, ev.state, ev.seq - below.seq):
            return (
                "impossible_transition",
                f"{below.state.value} (seq {below.seq}) cannot be followed by "
                f"{ev.state.value} (seq {ev.seq})",
            )
    if above is not None:
        if ev.ts > above.ts:
            return ("ts_order", f"ts {ev.ts.isoformat()} is after seq {above.seq}'s {above.ts.isoformat()}")
        if not transition_allowed(ev.state, above.state, above.seq - ev.seq):
            return (
                "impossible_transition",
                f"{ev.state.value} (seq {ev.seq}) cannot be followed by "
                f"stored {above.state.value} (seq {above.seq})",
            )
    return None


def _store_reports(
    conn: sa.Connection, station_id: int, reports: list[ReportItem], result: IngestResult
) -> None:
    first: dict[datetime, ReportItem] = {}
    fresh: list[ReportItem] = []
    for rep in reports:
        seen = first.get(rep.ts)
        if seen is None:
            first[rep.ts] = rep
            fresh.append(rep)
        else:
            _report_same_or_conflict(rep, seen.waiting_vehicles, result)
    rows = conn.execute(
        _INSERT_REPORTS,
        {
            "station_id": station_id,
            "counts": _ints([rep.waiting_vehicles for rep in fresh]),
            "ts": _texts([rep.ts.isoformat() for rep in fresh]),
        },
    ).all()
    stored = {ts: int(row_id) for row_id, ts in rows}
    clashing = [rep for rep in fresh if rep.ts not in stored]
    for rep in fresh:
        if rep.ts in stored:
            result.reports.append(
                (stored[rep.ts], WaitingReport(station_id, rep.waiting_vehicles, rep.ts.timestamp()))
            )
    result.accepted += len(stored)
    if clashing:
        existing = {
            r.ts: int(r.waiting_vehicles)
            for r in conn.execute(
                _EXISTING_REPORTS,
                {"station_id": station_id, "ts": _texts([rep.ts.isoformat() for rep in clashing])},
            )
        }
        for rep in clashing:
            _report_same_or_conflict(rep, existing.get(rep.ts, -1), result)


def _report_same_or_conflict(rep: ReportItem, known: int, result: IngestResult) -> None:
    if known == rep.waiting_vehicles:
        result.duplicates += 1
    else:
        result.rejects.append(
            Reject(
                rep.index,
                "report_conflict",
                f"a report at {rep.ts.isoformat()} already says {known} waiting vehicles",
            )
        )
