"""A crash between batches leaves whole batches and a re-run completes; the CLI end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ingest.writer import Counts
from tests.ingest.support import catalogue_counts, ingest, rejects_of, scalar

ROOT = Path(__file__).resolve().parents[2]
BD09 = "cn-shanghai-pois-bd09/shanghai_fuel_stations_bd09.csv"
GCJ02 = "cn-shanghai-jiading-amap-gcj02/gas_station.csv"


class Crash(RuntimeError):
    pass


def test_crash_after_second_batch_leaves_whole_batches(
    engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    def crash(batch: int, counts: Counts) -> None:
        if batch == 2:
            raise Crash("simulated crash after batch 2")

    with pytest.raises(Crash):
        ingest(
            engine, "shanghai-bd09", shared_data / BD09, tmp_path / "r.csv", batch_size=100, after_batch=crash
        )
    assert catalogue_counts(engine)[:2] == (200, 200)
    orphans = (
        "SELECT count(*) FROM stations s "
        "WHERE NOT EXISTS (SELECT 1 FROM station_identifiers i WHERE i.station_id = s.id)"
    )
    assert scalar(engine, orphans) == 0
    summary = ingest(engine, "shanghai-bd09", shared_data / BD09, tmp_path / "r.csv", batch_size=100)
    assert (summary.counts.unchanged, summary.counts.inserted) == (200, 215)
    assert catalogue_counts(engine)[:2] == (415, 415)


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_end_to_end(engine: Engine, database_url: str, shared_data: Path, tmp_path: Path) -> None:
    bad = tmp_path / "stations.csv"
    bad.write_text(
        "source,external_id,name,lon,lat\ntest,1,中国石化测试站,121.47,31.23\ntest,2,Swapped,31.23,121.47\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    done = _cli("stations", "--format", "csv", str(bad), "--rejects", str(rejects), database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert re.search(
        r"read 2, inserted 1, updated 0, unchanged 0, linked 0, rejected 1 \(rejects: .*rejects\.csv\), "
        r"elapsed \d+\.\ds",
        done.stdout,
    )
    assert "rows" in done.stderr  # the progress bar
    assert [(line, reason.split(":")[0]) for line, reason, _ in rejects_of(rejects)] == [
        (3, "swapped lat/lon")
    ]
    assert scalar(engine, "SELECT count(*) FROM stations WHERE brand = 'sinopec'") == 1

    missing = _cli("stations", "--format", "csv", str(tmp_path / "nope.csv"), database_url=database_url)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = _cli("stations", "--format", "xml", str(bad), database_url=database_url)
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    down = _cli("stations", "--format", "csv", str(bad), database_url="postgresql://nobody@127.0.0.1:1/none")
    assert down.returncode == 3 and "database unreachable" in down.stderr
