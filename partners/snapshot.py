"""The partner snapshot: every station with its current prices, as NDJSON lines, consistent as of one
point of the change log.

One REPEATABLE READ transaction reads the log's head first (that statement takes the snapshot) and then
every station, so the stations are exactly the state after transaction `head` and the final line's cursor
(`Cursor.after(head)`) is where the change feed continues: nothing committed before it is missing from the
snapshot, nothing in the snapshot is in the feed after it. Lines are produced batch by batch from a
server-side cursor: memory does not grow with the number of stations.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import orjson
from sqlalchemy import Engine

from changelog import Cursor, head
from geo.coords import CoordSystem
from partners.stations import every_station
from timekeeping.rfc3339 import instant_text

LICENCE = "Station data © the station service and its sources; redistribution under the partner agreement."


def snapshot_lines(engine: Engine, partner_id: int, coord: CoordSystem, now: datetime) -> Iterator[bytes]:
    """Chunks of NDJSON: a header line, one line per station (id order), an end line with the cursor."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            seq = head(conn)
            header = {
                "type": "header",
                "coord": coord.value,
                "head_seq": seq,
                "generated_at": instant_text(now),
                "licence": LICENCE,
            }
            yield orjson.dumps(header) + b"\n"
            count = 0
            for batch in every_station(conn, partner_id, coord):
                count += len(batch)
                yield b"".join(b'{"type":"station","station":%s}\n' % s for s in batch)
            end = {"type": "end", "cursor": str(Cursor.after(seq)), "head_seq": seq, "stations": count}
            yield orjson.dumps(end) + b"\n"
