"""Day partitions: created ahead from an explicit `now`, rows in their China day, DEFAULT rows moved, old
days dropped whole while recent ones stay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from db.partitions import china_day, day_bounds
from tests.occupancy.support import forecourt_station
from tests.support import insert_records
from tests.upkeep.support import insert_event, insert_report, span
from upkeep.partitions import day_partitions, maintain, partition_of

# 10:00 in Beijing on 2 December 2026.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
FIFTEEN = timedelta(days=15)


def _names(engine: Engine, table: str = "occupancy_events") -> list[str]:
    with engine.connect() as conn:
        return [name for _, name in sorted(day_partitions(conn, table).items())]


def test_china_days_start_at_16_utc() -> None:
    assert day_bounds(date(2026, 12, 2)) == (
        datetime(2026, 12, 1, 16, tzinfo=UTC),
        datetime(2026, 12, 2, 16, tzinfo=UTC),
    )
    assert china_day(datetime(2026, 12, 1, 15, 59, 59, tzinfo=UTC)) == date(2026, 12, 1)
    assert china_day(datetime(2026, 12, 1, 16, tzinfo=UTC)) == date(2026, 12, 2)


def test_every_retained_day_and_the_days_ahead_get_a_partition_and_rows_land_in_their_day(
    clean: Engine,
) -> None:
    changes = maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=3)
    # 15 days before 10:00 on 2 December is 17 November (Beijing): kept from there to 5 December.
    assert changes.created == span(date(2026, 11, 17), date(2026, 12, 5))
    assert changes.dropped == [] and changes.moved_rows == 0
    assert maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=3).created == []
    assert _names(clean, "waiting_reports") == []  # one table at a time
    (sid,) = insert_records(clean, [forecourt_station()])
    last_of_2nd = insert_event(clean, sid, 1, datetime(2026, 12, 2, 15, 59, 59, 999999, tzinfo=UTC))
    first_of_3rd = insert_event(clean, sid, 2, datetime(2026, 12, 2, 16, 0, tzinfo=UTC))
    before = insert_event(clean, sid, 3, datetime(2026, 11, 16, 15, 0, tzinfo=UTC))  # no partition: DEFAULT
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
    assert changes.created == span(date(2026, 11, 17), date(2026, 12, 2))
    assert (changes.moved_rows, changes.expired_default_rows) == (2, 1)
    reports = maintain(clean, "waiting_reports", NOW, retention=FIFTEEN, ahead_days=0)
    assert reports.created == span(date(2026, 11, 17), date(2026, 12, 2), "waiting_reports")
    assert reports.moved_rows == 1
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
    maintain(clean, "occupancy_events", NOW, retention=FIFTEEN, ahead_days=20)  # 17 Nov .. 22 December
    (sid,) = insert_records(clean, [forecourt_station()])
    # Later, 20 December 04:00 UTC: retention reaches back to 5 December 04:00 UTC = 12:00 in Beijing.
    later = datetime(2026, 12, 20, 4, 0, tzinfo=UTC)
    old = insert_event(clean, sid, 1, datetime(2026, 12, 4, 15, 0, tzinfo=UTC))  # 4 Dec 23:00 Beijing
    kept = insert_event(clean, sid, 2, datetime(2026, 12, 4, 16, 30, tzinfo=UTC))  # 5 Dec 00:30 Beijing
    changes = maintain(clean, "occupancy_events", later, retention=FIFTEEN, ahead_days=3)
    assert changes.dropped == span(date(2026, 11, 17), date(2026, 12, 4))
    assert changes.created == ["occupancy_events_p20261223"]
    assert _names(clean) == span(date(2026, 12, 5), date(2026, 12, 23))
    with clean.connect() as conn:
        assert partition_of(conn, "occupancy_events", [old, kept]) == {kept: "occupancy_events_p20261205"}


@pytest.mark.parametrize(("retention", "ahead"), [(timedelta(hours=23), 3), (FIFTEEN, -1)])
def test_bad_policies_are_refused(clean: Engine, retention: timedelta, ahead: int) -> None:
    with pytest.raises(ValueError):
        maintain(clean, "occupancy_events", NOW, retention=retention, ahead_days=ahead)
    assert _names(clean) == []
