"""Day partitions: created ahead from an explicit `now`, rows in their China day, DEFAULT rows moved, old
days dropped whole while recent ones stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from db.partitions import china_day, day_bounds
from tests.occupancy.support import forecourt_station
from tests.support import insert_records
from tests.upkeep.support import insert_event, insert_report
from upkeep.partitions import day_partitions, maintain, partition_of

# 10:00 in Beijing on 2 December 2026.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
FIFTEEN = timedelta(days=15)


def _days(engine: Engine, table: str = "occupancy_events") -> list[date]:
    with engine.connect() as conn:
        return sorted(day_partitions(conn, table))


def test_china_days_start_at_16_utc() -> None:
    assert day_bounds(date(2026, 12, 2)) == (
        datetime(2026, 12, 1, 16, tzinfo=UTC),
        datetime(2026, 12, 2, 16, tzinfo=UTC),
    )
    assert china_day(datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)) == date(2026, 12, 1)
    assert china_day(datetime(2026, 12, 1, 16, tzinfo=UTC)) == date(2026, 12, 2)


def test_partitions_are_created_ahead_and_rows_land_in_their_china_day(clean: Engine) -> None:
    changes = maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=3)
    assert changes.created == [f"occupancy_events_p2026120{d}" for d in (2, 3, 4, 5)]
    assert changes.dropped == [] and changes.moved_rows == 0
    assert maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=3).created == []
    (sid,) = insert_records(clean, [forecourt_station()])
    last_of_2nd = insert_event(clean, sid, 1, datetime(2026, 12, 2, 15, 59, 59, 999999, tzinfo=UTC))
    first_of_3rd = insert_event(clean, sid, 2, datetime(2026, 12, 2, 16, 0, tzinfo=UTC))
    before = insert_event(clean, sid, 3, datetime(2026, 12, 1, 15, 0, tzinfo=UTC))  # no partition: DEFAULT
    with clean.connect() as conn:
        assert partition_of(conn, "occupancy_events", [last_of_2nd, first_of_3rd, before]) == {
            last_of_2nd: "occupancy_events_p20261202",
            first_of_3rd: "occupancy_events_p20261203",
            before: "occupancy_events_default",
        }


def test_rows_of_the_default_partition_move_into_their_new_partition(clean: Engine) -> None:
    (sid,) = insert_records(clean, [forecourt_station()])
    yesterday = insert_event(clean, sid, 1, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    today = insert_event(clean, sid, 2, datetime(2026, 12, 2, 1, 0, tzinfo=UTC))
    expired = insert_event(clean, sid, 3, datetime(2026, 11, 10, 3, 0, tzinfo=UTC))  # older than 15 days
    report = insert_report(clean, sid, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    changes = maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=0)
    assert sorted(changes.created) == ["occupancy_events_p20261201", "occupancy_events_p20261202"]
    assert (changes.moved_rows, changes.expired_default_rows) == (2, 1)
    reports = maintain(clean, "waiting_reports", NOW, retention=FIFTEEN, ahead_days=0)
    assert (reports.created, reports.moved_rows) == (
        ["waiting_reports_p20261201", "waiting_reports_p20261202"],
        1,
    )
    with clean.connect() as conn:
        # Same ids (a worker's tail follows them), now in their day's partition; the expired row is gone.
        assert partition_of(conn, "occupancy_events", [yesterday, today, expired]) == {
            yesterday: "occupancy_events_p20261201",
            today: "occupancy_events_p20261202",
        }
        assert partition_of(conn, "waiting_reports", [report]) == {report: "waiting_reports_p20261201"}
        assert conn.execute(text("SELECT count(*) FROM occupancy_events_default")).scalar_one() == 0
        # The moved partition is a full one: its unique key still answers the ingest's conflict target.
        indexes = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = 'occupancy_events_p20261201'")
        ).scalars()
        assert any('(station_id, "position", nozzle, seq, ts)' in i for i in indexes)


def test_old_days_are_dropped_whole_and_recent_ones_kept(clean: Engine) -> None:
    maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=20)  # 2 .. 22 December
    (sid,) = insert_records(clean, [forecourt_station()])
    # Later, 20 December 04:00 UTC: retention reaches back to 5 December 04:00 UTC = 12:00 in Beijing.
    later = datetime(2026, 12, 20, 4, 0, tzinfo=UTC)
    old = insert_event(clean, sid, 1, datetime(2026, 12, 4, 15, 0, tzinfo=UTC))  # 4 Dec 23:00 Beijing
    kept = insert_event(clean, sid, 2, datetime(2026, 12, 4, 16, 30, tzinfo=UTC))  # 5 Dec 00:30 Beijing
    changes = maintain(clean, "occupancy_events", later, retention=FIFTEEN, ahead_days=3)
    assert changes.dropped == [f"occupancy_events_p2026120{d}" for d in (2, 3, 4)]
    assert changes.created == ["occupancy_events_p20261223"]
    assert _days(clean) == [date(2026, 12, d) for d in range(5, 24)]
    with clean.connect() as conn:
        assert partition_of(conn, "occupancy_events", [old, kept]) == {kept: "occupancy_events_p20261205"}


@pytest.mark.parametrize(("retention", "ahead"), [(timedelta(hours=23), 3), (FIFTEEN, -1)])
def test_bad_policies_are_refused(clean: Engine, retention: timedelta, ahead: int) -> None:
    with pytest.raises(ValueError):
        maintain(clean, "occupancy_events", NOW, retention=retention, ahead_days=ahead)
    assert _days(clean) == []
