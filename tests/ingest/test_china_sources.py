"""Shanghai BD-09 POIs and Jiading GCJ-02 (Amap) stations: conversion to WGS-84 and cross-source linking."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, text

from tests.ingest.support import catalogue_counts, ingest, scalar

BD09 = "cn-shanghai-pois-bd09/shanghai_fuel_stations_bd09.csv"
GCJ02 = "cn-shanghai-jiading-amap-gcj02/gas_station.csv"

# Amap station id -> nearest Baidu feature_index within 30 m, measured on the stored WGS-84 points.
_PAIRS = """
SELECT a.external_id AS amap_id, nearest.external_id AS baidu_id
FROM station_identifiers a JOIN stations sa ON sa.id = a.station_id
CROSS JOIN LATERAL (
    SELECT b.external_id FROM station_identifiers b JOIN stations sb ON sb.id = b.station_id
    WHERE b.source = 'baidu-poi-shanghai' AND ST_DWithin(sa.geom::geography, sb.geom::geography, 30)
    ORDER BY ST_Distance(sa.geom::geography, sb.geom::geography) LIMIT 1
) AS nearest
WHERE a.source = 'amap'
"""
_RAW_DISTANCE = (
    "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:lon1, :lat1), 4326)::geography, "
    "ST_SetSRID(ST_MakePoint(:lon2, :lat2), 4326)::geography)"
)


def _raw_points(path: Path, key: str, location: str) -> dict[str, tuple[float, float]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if location == "location":
        return {r[key]: tuple(map(float, r["location"].split(","))) for r in rows}  # type: ignore[misc]
    return {r[key]: (float(r["lng_bd09"]), float(r["lat_bd09"])) for r in rows}


def test_both_sources_ingested_and_conversion_matters(
    engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    shanghai = ingest(engine, "shanghai-bd09", shared_data / BD09, tmp_path / "bd.csv")
    jiading = ingest(engine, "jiading-gcj02", shared_data / GCJ02, tmp_path / "gcj.csv")
    # Both files are clean: every POI is in China with a name and a unique id.
    assert (shanghai.read, shanghai.rejected, shanghai.counts.inserted) == (415, 0, 415)
    assert (jiading.read, jiading.rejected, jiading.counts.inserted) == (89, 0, 89)
    assert scalar(engine, "SELECT count(*) FROM stations WHERE status = 'temporarily_closed'") == 7
    with engine.connect() as conn:
        pairs = conn.execute(text(_PAIRS)).all()
    assert len(pairs) >= 40  # SOURCE.md: 41 of 89 match within 30 m after conversion
    amap = _raw_points(shared_data / GCJ02, "id", "location")
    baidu = _raw_points(shared_data / BD09, "feature_index", "bd09")
    with engine.connect() as conn:
        raw = sorted(
            float(
                conn.execute(
                    text(_RAW_DISTANCE),
                    {"lon1": amap[a][0], "lat1": amap[a][1], "lon2": baidu[b][0], "lat2": baidu[b][1]},
                ).scalar_one()
            )
            for a, b in pairs
        )
    # Unconverted, the same stations sit several hundred metres apart (the BD-09 offset).
    assert 500 < raw[len(raw) // 2] < 1200
    assert raw[0] > 300


def test_jiading_links_onto_shanghai_stations(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    ingest(engine, "shanghai-bd09", shared_data / BD09, tmp_path / "bd.csv")
    summary = ingest(engine, "jiading-gcj02", shared_data / GCJ02, tmp_path / "gcj.csv", link_within_m=30)
    assert summary.counts.linked >= 40
    assert summary.counts.linked + summary.counts.inserted == 89
    stations, identifiers, _, _ = catalogue_counts(engine)
    assert (stations, identifiers) == (415 + summary.counts.inserted, 415 + 89)
    # A linked station carries both identities, and kept the Baidu-sourced content (same brand).
    both = scalar(
        engine,
        "SELECT count(*) FROM (SELECT station_id FROM station_identifiers GROUP BY station_id "
        "HAVING count(DISTINCT source) = 2) AS s",
    )
    assert both == summary.counts.linked
    again = ingest(engine, "jiading-gcj02", shared_data / GCJ02, tmp_path / "gcj2.csv", link_within_m=30)
    assert (again.counts.unchanged, again.counts.linked, again.counts.inserted, again.counts.updated) == (
        89,
        0,
        0,
        0,
    )
    assert catalogue_counts(engine)[:2] == (stations, identifiers)
