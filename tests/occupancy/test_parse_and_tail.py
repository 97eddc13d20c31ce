"""Reading batches (JSON array, NDJSON, per-item problems) and the tail's tolerance of out-of-order ids."""

from __future__ import annotations

import orjson
import pytest

from occupancy.errors import BatchTooLarge, UnreadableBatch
from occupancy.feed import IdTracker
from occupancy.parse import parse_batch

EVENT = {
    "station_id": 7,
    "position": 1,
    "nozzle": 2,
    "state": "calling",
    "seq": 3,
    "ts": "2026-11-22T08:00:01.250+08:00",
}


def test_json_and_ndjson_read_the_same_items() -> None:
    items = [EVENT, {"station_id": 7, "waiting_vehicles": 4, "ts": "2026-11-22T00:00:02Z"}]
    as_json = parse_batch(orjson.dumps(items), False, 10)
    as_ndjson = parse_batch(b"\n".join(orjson.dumps(i) for i in items) + b"\n\n", True, 10)
    assert as_json == as_ndjson and as_json.size == 2 and not as_json.rejects
    event = as_json.events[0]
    assert event.ts.timestamp() == 1795305601.25 and event.ts_text == EVENT["ts"]
    assert as_json.reports[0].waiting_vehicles == 4


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"state": "parked"}, "invalid_field"),
        ({"seq": -1}, "invalid_field"),
        ({"position": True}, "invalid_field"),
        ({"nozzle": 1.0}, "invalid_field"),
        ({"ts": "2026-11-22T08:00:01"}, "invalid_field"),
        ({"ts": "2026-W47-1T08:00:00+08:00"}, "invalid_field"),
        ({"ts": 1795795201}, "invalid_field"),
        ({"station_id": None}, "missing_field"),
        ({"position": 40_000}, "invalid_field"),
    ],
)
def test_each_bad_item_is_named_by_index_and_code(change: dict[str, object], code: str) -> None:
    parsed = parse_batch(orjson.dumps([EVENT, {**EVENT, **change}, EVENT]), False, 10)
    assert [(r.index, r.code) for r in parsed.rejects] == [(1, code)] and len(parsed.events) == 2


def test_unreadable_and_oversized_bodies() -> None:
    for body, ndjson in ((b'{"a": 1}', False), (b"[1, 2", False), (b'{"a": 1}\n{bad\n', True)):
        with pytest.raises(UnreadableBatch):
            parse_batch(body, ndjson, 10)
    with pytest.raises(BatchTooLarge):
        parse_batch(orjson.dumps([EVENT] * 11), False, 10)
    with pytest.raises(BatchTooLarge):
        parse_batch(b"\n".join([orjson.dumps(EVENT)] * 11), True, 10)


def test_tracker_waits_for_ids_committed_out_of_order_then_gives_up() -> None:
    tracker = IdTracker(hold_s=10.0)
    tracker.observe([1, 2, 5, 6, 9], now=100.0)  # 3, 4, 7, 8 are still in flight
    assert tracker.last == 9 and tracker.ranges() == ([3, 7], [4, 8])
    tracker.observe([4, 7], now=101.0)
    assert tracker.ranges() == ([3, 8], [3, 8])
    tracker.expire(now=109.0)
    assert sorted(tracker.missing) == [3, 8]
    tracker.expire(now=111.0)  # a rolled-back transaction never commits its ids
    assert tracker.missing == {}
