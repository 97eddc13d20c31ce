"""The holiday-peak harness (loadtests/peak) at a tiny scale for a few seconds against the real test servers
(the API and the reference order core over HTTP, a small demo network in PostGIS): every scenario reaches
its routes without a failed request, and the report's files exist and parse. Behaviour, not timing: no
latency is asserted (the verdict column only has to hold a verdict)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from access import partners
from tests.checkout.support import CORE_TOKEN, running_stack

ROOT = Path(__file__).resolve().parents[2]
EVERY_SCENARIO = {
    "GET /v1/stations (viewport)",
    "GET /v1/tiles/{z}/{x}/{y}.mvt",
    "GET /v1/stations/nearby",
    "GET /v1/stations/{id}/wait",
    "GET /v1/stations/{id}",
    "POST /v1/quotes",
    "POST /v1/checkout",
    "GET /v1/prices/compare",
    "POST /v1/route/stations",
    "POST /v1/occupancy/events",
    "PUT /v1/operator/coupon-templates/{id}",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_a_tiny_peak_run_reports_every_scenario_without_failures(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    load = subprocess.run(
        [sys.executable, "-m", "demodata.cli", "load", "--stations", "1500", "--seed", "16", "--replace"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert load.returncode == 0, load.stderr
    account = partners.create_partner(engine, "压测", rate_per_second=1000.0, burst=1000, daily_quota=None)
    partner_token = partners.create_key(engine, account.partner_id, sorted(partners.SCOPES)).token
    out = tmp_path / "report"
    with running_stack(database_url, engine) as stack:
        stack.main.wait_for_catalogue()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "loadtests.peak",
                "--url",
                stack.main.base_url,
                "--ordercore-url",
                str(stack.core.base_url).rstrip("/"),
                "--database-url",
                database_url,
                "--ordercore-token",
                CORE_TOKEN,
                "--scale",
                "0.5",
                "--duration",
                "20",
                "--window",
                "1",
                "--warmup",
                "2",
                "--centres",
                "3",
                "--station-systems",
                "3",
                "--order-share",
                "1.0",
                "--partner-key",
                partner_token,
                "--out",
                str(out),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: a route over its target, not an error
    assert "peak run: scale 0.5" in run.stdout and "== scale 0.5" in run.stdout  # progress and summary

    routes = {r["route"]: r for r in _rows(out / "routes.csv")}
    assert set(routes) >= EVERY_SCENARIO, sorted(routes)
    for name, row in routes.items():
        assert int(row["failures"]) == 0, (name, (out / "failures.csv").read_text())
        assert int(row["requests"]) > 0 and float(row["p99_ms"]) >= float(row["p50_ms"]) > 0
        assert row["verdict"] in ("pass", "fail", "few", "report")
    assert routes["GET /v1/stations/nearby"]["target_p99_ms"] == "25.0"
    timeline = _rows(out / "timeline.csv")
    # the partner takes one snapshot, then follows the feed from its cursor (not a snapshot per respawn)
    assert sum(int(r["requests"]) for r in timeline if r["route"] == "GET /v1/partner/snapshot") == 1
    assert int(routes["GET /v1/partner/changes"]["requests"]) > 0

    assert {r["route"] for r in timeline} >= set(routes)
    # the windows after the 2 s warm-up add up to the routes' figures; the warm-up's are counted apart
    after = [r for r in timeline if float(r["window_start_s"]) >= 2.0]
    per_route = {name: sum(int(r["requests"]) for r in after if r["route"] == name) for name in routes}
    assert per_route == {name: int(r["requests"]) for name, r in routes.items()}
    warm = sum(int(r["requests"]) for r in timeline if float(r["window_start_s"]) < 2.0)
    counts_now = json.loads((out / "counts.json").read_text())
    assert warm > 0 and counts_now["warm-up requests (timeline only, not in the verdict)"] == warm
    assert counts_now["partner snapshot: end cursor read"] == 1

    cpu = _rows(out / "cpu.csv")
    assert cpu and all(float(r["generator"]) >= 0 and float(r["machine_busy"]) >= 0 for r in cpu)
    assert sum(float(r["generator"]) for r in cpu) > 0  # the generator's CPU was found and measured
    counts = json.loads((out / "counts.json").read_text())
    assert counts["forecourt items accepted"] > 0 and counts.get("orders completed", 0) > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failures"] == 0 and summary["credentials_revoked"] == 3
    assert summary["partner_scenario"] == "on"  # the service documents the snapshot and the feed
    for png in ("latency.png", "throughput.png", "cpu.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text()
    assert "GET /v1/stations/nearby" in page and "latency.png" in page
    with engine.connect() as conn:  # the run's station credentials no longer work
        live = conn.execute(text("SELECT count(*) FROM station_credentials WHERE revoked_at IS NULL"))
        assert live.scalar_one() == 0
