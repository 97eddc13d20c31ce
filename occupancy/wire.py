"""The HTTP wire form of a controller's telemetry: NDJSON lines for POST /v1/occupancy/events.

Shared by the clients that post simulated telemetry (loadtests.eval_wait, demodata.forecourt_feed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from occupancy.events import NozzleEvent, WaitingReport

NDJSON = "application/x-ndjson"


def rfc3339(ts: float) -> str:
    """Epoch seconds as RFC 3339 with an explicit offset (UTC, +00:00), to the microsecond."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def item_json(item: NozzleEvent | WaitingReport) -> dict[str, Any]:
    if isinstance(item, NozzleEvent):
        body: dict[str, Any] = {
            "station_id": item.station_id,
            "position": item.position,
            "nozzle": item.nozzle,
            "state": item.state.value,
            "seq": item.seq,
        }
    else:
        body = {"station_id": item.station_id, "waiting_vehicles": item.waiting_vehicles}
    body["ts"] = rfc3339(item.ts)
    return body


def ndjson_body(items: Iterable[NozzleEvent | WaitingReport]) -> bytes:
    """One JSON object per line, newline-terminated."""
    return b"\n".join(orjson.dumps(item_json(item)) for item in items) + b"\n"
