"""Helpers for the ingest tests: run an adapter through the pipeline into the test database."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, text

from ingest.adapters import ADAPTERS
from ingest.pipeline import Summary, run
from ingest.writer import AfterBatch, Writer


def ingest(
    engine: Engine,
    fmt: str,
    path: Path,
    rejects: Path,
    *,
    link_within_m: float = 0.0,
    batch_size: int = 500,
    after_batch: AfterBatch | None = None,
) -> Summary:
    writer = Writer(engine, link_within_m=link_within_m, after_batch=after_batch)
    return run(ADAPTERS[fmt](path), writer, rejects, batch_size=batch_size)


def rejects_of(path: Path) -> list[tuple[int, str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "reason", "raw"]
    return [(int(r[0]), r[1], r[2]) for r in rows[1:]]


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def catalogue_counts(engine: Engine) -> tuple[int, int, int, int]:
    return (
        scalar(engine, "SELECT count(*) FROM stations"),
        scalar(engine, "SELECT count(*) FROM station_identifiers"),
        scalar(engine, "SELECT count(*) FROM fueling_positions"),
        scalar(engine, "SELECT count(*) FROM nozzles"),
    )


def max_updated_at(engine: Engine) -> object:
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(updated_at) FROM stations")).scalar_one()
