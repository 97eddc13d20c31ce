"""The upkeep round: one runner at a time (advisory lock), every step counted, a failing step retried next
round without stopping the others; the CLI; the API lifespan's periodic task."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from tests.support import live_server, wait_until
from tests.upkeep.support import span
from timekeeping.clock import ManualClock
from upkeep.partitions import day_partitions
from upkeep.rounds import LOCK_KEYS, RoundReport, StepResult, UpkeepPolicy, run_round

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
# The change log is left alone (the machine's clock may stand anywhere against NOW: a pruned log would make
# every live follower resync); its pruning is changelog.retention's, tested in tests/changelog.
KEEP_LOG_DAYS = 36_500
POLICY = UpkeepPolicy(lock_timeout_ms=200, change_log_retention=timedelta(days=KEEP_LOG_DAYS))
STEPS = [
    "partitions occupancy_events",
    "partitions waiting_reports",
    "ordercore outbox",
    "ordercore events",
    "position claims",
    "change log",
]


KEPT = span(date(2026, 11, 17), date(2026, 12, 5))  # 15 days back from NOW, 3 days ahead


def _names(engine: Engine, table: str = "occupancy_events") -> list[str]:
    with engine.connect() as conn:
        return [name for _, name in sorted(day_partitions(conn, table).items())]


def test_a_round_runs_every_step_and_creates_the_days_ahead(clean: Engine) -> None:
    report = run_round(clean, POLICY, NOW)
    assert report.ran and report.failed == []
    assert [s.name for s in report.steps] == STEPS
    assert report.steps[0].counts["created"] == KEPT
    assert _names(clean, "waiting_reports") == span(date(2026, 11, 17), date(2026, 12, 5), "waiting_reports")
    log_step = report.steps[-1].counts
    assert (log_step["transactions"], log_step["changes"]) == (0, 0) and "pruned_through" in log_step
    again = run_round(clean, POLICY, NOW)
    assert again.steps[0].counts == {"created": [], "dropped": [], "moved_rows": 0, "expired_default_rows": 0}


def test_of_two_runners_one_runs_and_the_other_skips(clean: Engine) -> None:
    inside = threading.Event()
    release = threading.Event()
    first: list[RoundReport] = []

    def hold(step: StepResult) -> None:  # the first runner stops inside its round, holding the lock
        inside.set()
        assert release.wait(30)

    runner = threading.Thread(target=lambda: first.append(run_round(clean, POLICY, NOW, on_step=hold)))
    runner.start()
    try:
        assert inside.wait(30)
        second = run_round(clean, POLICY, NOW + timedelta(days=1))
        assert not second.ran and second.steps == []
    finally:
        release.set()
        runner.join(30)
    assert first[0].ran and first[0].failed == []
    assert _names(clean) == KEPT  # nothing of the second runner's next day
    assert run_round(clean, POLICY, NOW + timedelta(days=1)).ran  # the lock is free again


def test_a_lock_held_elsewhere_skips_the_round(clean: Engine) -> None:
    with clean.connect() as other:
        assert other.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), LOCK_KEYS).scalar_one()
        try:
            assert not run_round(clean, POLICY, NOW).ran
            assert _names(clean) == []
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:a, :b)"), LOCK_KEYS)
            other.commit()


def test_a_failing_step_is_logged_the_others_run_and_the_next_round_retries(clean: Engine) -> None:
    with clean.connect() as reader:  # a long reader of the DEFAULT partition: creating a day times out
        reader.execute(text("LOCK TABLE occupancy_events_default IN ACCESS SHARE MODE"))
        report = run_round(clean, POLICY, NOW)
        reader.rollback()
    assert report.ran and report.failed == ["partitions occupancy_events"]
    assert "lock timeout" in (report.steps[0].error or "")
    assert [s.name for s in report.steps if s.error is None] == STEPS[1:]
    assert _names(clean) == [] and len(_names(clean, "waiting_reports")) == len(KEPT)
    retry = run_round(clean, POLICY, NOW)
    assert retry.failed == [] and _names(clean) == KEPT


def test_the_cli_runs_one_round_with_progress_and_a_summary(clean: Engine, database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    command = [sys.executable, "-m", "upkeep", "run-once", "--now", "2026-12-02T10:00:00+08:00"]
    command += ["--change-log-retention-days", str(KEEP_LOG_DAYS)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "partitions occupancy_events" in done.stderr and "occupancy_events_p20261205" in done.stderr
    assert done.stdout.strip() == "Upkeep: 6 of 6 steps done"
    assert _names(clean) == KEPT
    bad = subprocess.run(
        [*command[:4], "--now", "2026-12-02T10:00:00"], env=env, cwd=ROOT, capture_output=True, check=False
    )
    assert bad.returncode == 2 and b"no UTC offset" in bad.stderr


def test_the_api_runs_a_round_at_start_up_on_its_clock(clean: Engine, database_url: str) -> None:
    clock = ManualClock(NOW)
    overrides = {"upkeep_every_seconds": 3600, "change_log_retention_days": KEEP_LOG_DAYS}
    with live_server(database_url, clean, clock, load_index=False, **overrides):
        wait_until(lambda: len(_names(clean, "waiting_reports")) == len(KEPT), what="the start-up round")
    assert _names(clean) == KEPT
