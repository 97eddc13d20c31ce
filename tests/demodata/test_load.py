"""Loading the synthetic network into the real PostGIS: counts, relations, H3 cells, atomicity, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from demodata.generator import SOURCE, generate
from demodata.load import load
from geo.cells import cells_of
from geo.records import StationRecord

ROOT = Path(__file__).resolve().parents[2]
N = 3000
SEED = 11


@pytest.fixture
def loaded(engine: Engine, database_url: str) -> list[StationRecord]:
    records = list(generate(N, SEED))
    conn = psycopg2.connect(database_url)
    try:
        counts = load(conn, records)
    finally:
        conn.close()
    assert (counts.stations, counts.identifiers) == (N, N)
    assert counts.positions == sum(len(r.positions) for r in records)
    assert counts.nozzles == sum(len(p) for r in records for p in r.positions)
    return records


def _scalar(engine: Engine, query: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(query)).scalar_one()


def test_counts_match_in_all_four_tables(engine: Engine, loaded: list[StationRecord]) -> None:
    assert _scalar(engine, "SELECT count(*) FROM stations") == N
    assert _scalar(engine, "SELECT count(*) FROM station_identifiers WHERE source = 'synthetic-demo'") == N
    assert _scalar(engine, "SELECT count(*) FROM fueling_positions") == sum(len(r.positions) for r in loaded)
    assert _scalar(engine, "SELECT count(*) FROM nozzles") == sum(len(p) for r in loaded for p in r.positions)


def test_rows_are_related_as_in_the_records(engine: Engine, loaded: list[StationRecord]) -> None:
    by_external = {r.identifiers[0][1]: r for r in loaded}
    query = text(
        "SELECT i.external_id, s.name, s.brand, s.grades, s.content_hash, ST_X(s.geom), ST_Y(s.geom), "
        "s.h3_r5, s.h3_r7, s.h3_r9, "
        "(SELECT array_agg(n.grade ORDER BY p.number, n.number) FROM fueling_positions p "
        " JOIN nozzles n ON n.position_id = p.id WHERE p.station_id = s.id) "
        "FROM stations s JOIN station_identifiers i ON i.station_id = s.id "
        "WHERE i.source = :source ORDER BY s.id LIMIT 200"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"source": SOURCE}).all()
    assert len(rows) == 200
    for ext, name, brand, grades, content_hash, lon, lat, r5, r7, r9, nozzle_grades in rows:
        record = by_external[ext]
        assert (name, brand, list(record.grades), content_hash) == (
            record.name,
            record.brand,
            grades,
            record.content_hash(),
        )
        assert (lon, lat) == (record.lon, record.lat)
        assert {5: r5, 7: r7, 9: r9} == cells_of(lon, lat)
        assert nozzle_grades == [g for nozzles in record.positions for g in nozzles]


def test_sequences_continue_after_the_loaded_ids(engine: Engine, loaded: list[StationRecord]) -> None:
    with engine.begin() as conn:
        new_id = conn.execute(
            text(
                "INSERT INTO stations (name, brand, geom, h3_r5, h3_r7, h3_r9, content_hash) "
                "VALUES ('x', 'private', ST_GeomFromEWKT('SRID=4326;POINT(102.8 24.9)'), 1, 2, 3, 'h') "
                "RETURNING id"
            )
        ).scalar_one()
        assert new_id > conn.execute(text("SELECT max(id) FROM stations WHERE name <> 'x'")).scalar_one()
        conn.execute(text("INSERT INTO fueling_positions (station_id, number) VALUES (:s, 1)"), {"s": new_id})


SCHEMA_QUERY = text(
    "SELECT array_agg(d ORDER BY d) FROM ("
    " SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS d"
    " FROM pg_constraint"
    " WHERE conrelid = ANY('{stations,station_identifiers,fueling_positions,nozzles}'::regclass[])"
    " OR confrelid = ANY('{stations,station_identifiers,fueling_positions,nozzles}'::regclass[])"
    " UNION ALL SELECT indexdef FROM pg_indexes"
    " WHERE tablename IN ('stations', 'station_identifiers', 'fueling_positions', 'nozzles')) s"
)


def _schema(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(SCHEMA_QUERY).scalar_one())


def test_constraints_and_indexes_are_rebuilt_identically(engine: Engine, database_url: str) -> None:
    before = _schema(engine)
    assert any("PRIMARY KEY" in d for d in before) and any("gist" in d for d in before)
    conn = psycopg2.connect(database_url)
    try:
        load(conn, generate(500, SEED), chunk_size=200)
    finally:
        conn.close()
    assert _schema(engine) == before
    assert _scalar(engine, "SELECT count(*) FROM stations") == 500


def _failing(records: list[StationRecord], after: int) -> Iterator[StationRecord]:
    yield from islice(records, after)
    raise RuntimeError("feed broke")


def test_a_failure_leaves_nothing_loaded_and_keeps_the_foreign_keys(
    engine: Engine, database_url: str
) -> None:
    before = _schema(engine)
    records = list(generate(2500, SEED))
    conn = psycopg2.connect(database_url)
    try:
        with pytest.raises(RuntimeError, match="feed broke"):
            load(conn, _failing(records, 2200), chunk_size=1000)
    finally:
        conn.close()
    for table in ("stations", "station_identifiers", "fueling_positions", "nozzles"):
        assert _scalar(engine, f"SELECT count(*) FROM {table}") == 0  # noqa: S608 - fixed table names
    assert _schema(engine) == before
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = ANY('{stations,station_identifiers,fueling_positions,nozzles}'::regclass[])",
        )
        == 3
    )


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "demodata.cli", "load", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_if_empty_leaves_a_loaded_catalogue_unchanged(
    engine: Engine, database_url: str, loaded: list[StationRecord]
) -> None:
    before = _scalar(engine, "SELECT md5(string_agg(content_hash, ',' ORDER BY id)) FROM stations")
    version = _scalar(engine, "SELECT version FROM catalogue_version")
    result = _cli(database_url, "--stations", "500", "--seed", "99", "--if-empty")
    assert result.returncode == 0, result.stderr
    assert "nothing loaded" in result.stdout and "SYNTHETIC" in result.stdout
    assert _scalar(engine, "SELECT count(*) FROM stations") == N
    assert _scalar(engine, "SELECT md5(string_agg(content_hash, ',' ORDER BY id)) FROM stations") == before
    assert _scalar(engine, "SELECT version FROM catalogue_version") == version


def test_cli_loads_an_empty_catalogue_then_replaces_it(engine: Engine, database_url: str) -> None:
    first = _cli(database_url, "--stations", "300", "--seed", "5", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "300 stations" in first.stdout and "sinopec" in first.stdout and "SYNTHETIC" in first.stdout
    assert _scalar(engine, "SELECT count(*) FROM stations") == 300
    again = _cli(database_url, "--stations", "300", "--seed", "5")
    assert again.returncode == 1 and "--replace" in again.stderr
    assert _scalar(engine, "SELECT count(*) FROM stations") == 300
    replaced = _cli(database_url, "--stations", "200", "--seed", "6", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert _scalar(engine, "SELECT count(*) FROM station_identifiers WHERE external_id LIKE '6-%'") == 200
    assert _scalar(engine, "SELECT count(*) FROM stations") == 200


def test_cli_refuses_an_unmigrated_database(database_url: str) -> None:
    admin = psycopg2.connect(database_url)
    admin.autocommit = True
    name = "demodata_unmigrated_test"
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")
        cur.execute(f"CREATE DATABASE {name}")
    try:
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
        result = _cli(url, "--stations", "10")
        assert result.returncode == 3
        assert "alembic upgrade head" in result.stderr
        unreachable = make_url(url).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
        assert _cli(unreachable, "--stations", "10").returncode == 3
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()
