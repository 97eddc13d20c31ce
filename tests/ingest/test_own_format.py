"""The project's own CSV and GeoJSON formats: hand-made bad rows are rejected with line and reason."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import Engine, text

from tests.ingest.support import ingest, rejects_of, scalar

HEADER = "source,external_id,name,brand,lon,lat,coord,opening_hours,services,grades,status,positions,adcode\n"
ROWS = [
    # line 2: good, WGS-84, JSON hours, services, grades and two fueling positions
    'own,A1,中国石化测试站,,121.47,31.23,,"{""weekly"": {""mon"": [[""06:00"", ""22:00""]]}}",'
    'car_wash;toilet,92#;0,open,"92,95,98;92,95",310101',
    "own,A2,Swapped,,31.23,121.47,,,,,,,",  # 3: swapped lat/lon
    "own,A3,Zero,,0,0,,,,,,,",  # 4: 0,0
    "own,A4,Out of range,,200,95,,,,,,,",  # 5: out of range
    "own,A5,,,121.4,31.2,,,,,,,",  # 6: missing name
    "own,A6,Short line,121.4",  # 7: unparsable (too few fields)
    "own,A7,Bad hours,,121.4,31.2,,25:00-26:00,,,,,",  # 8: bad hours
    "own,A8,Unknown grade,,121.4,31.2,,,,93,,,",  # 9: unknown grade
    "own,A1,Duplicate,,121.4,31.2,,,,,,,",  # 10: duplicate of line 2
    "own,A9,Paris,,2.35,48.85,,,,,,,",  # 11: outside China
    "own,A10,百度站,shell,121.47,31.23,bd09,06:00-22:00,,,temporarily_closed,,",  # 12: good, BD-09
]
EXPECTED = [
    (3, "swapped lat/lon"),
    (4, "coordinates are 0,0"),
    (5, "coordinates out of range"),
    (6, "missing name"),
    (7, "unparsable line"),
    (8, "bad opening_hours"),
    (9, "unknown fuel grade '93'"),
    (10, "duplicate external_id 'A1' (first on line 2)"),
    (11, "outside mainland China"),
]


def test_own_csv(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "own.csv"
    path.write_text(HEADER + "\n".join(ROWS) + "\n", encoding="utf-8")
    summary = ingest(engine, "csv", path, tmp_path / "rejects.csv")
    rejects = rejects_of(tmp_path / "rejects.csv")
    assert [
        (line, reason[: len(want)]) for (line, reason, _), (_, want) in zip(rejects, EXPECTED, strict=True)
    ] == EXPECTED
    assert rejects[1][2] == ROWS[2]  # the raw text of line 4
    assert (summary.read, summary.counts.inserted, summary.rejected) == (11, 2, 9)
    with engine.connect() as conn:
        a1 = conn.execute(
            text(
                "SELECT s.id, s.brand, s.grades, s.services, s.adcode, s.opening_hours, ST_X(s.geom) AS lon "
                "FROM stations s JOIN station_identifiers i ON i.station_id = s.id WHERE i.external_id = 'A1'"
            )
        ).one()
        a10 = conn.execute(
            text(
                "SELECT s.brand, s.status, s.opening_hours, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat "
                "FROM stations s JOIN station_identifiers i ON i.station_id = s.id "
                "WHERE i.external_id = 'A10'"
            )
        ).one()
    assert a1.brand == "sinopec" and a1.adcode == "310101" and a1.lon == 121.47
    assert a1.grades == ["0", "92", "95", "98"] and a1.services == ["car_wash", "toilet"]
    assert a1.opening_hours == {"weekly": {"mon": [["06:00", "22:00"]]}}
    nozzles = (
        "SELECT count(*) FROM nozzles n JOIN fueling_positions p ON p.id = n.position_id "
        "WHERE p.station_id = :id"
    )
    assert scalar(engine, "SELECT count(*) FROM fueling_positions WHERE station_id = :id", id=a1.id) == 2
    assert scalar(engine, nozzles, id=a1.id) == 5
    # BD-09 -> WGS-84 moves the point by roughly -0.011 lon / -0.004 lat around Shanghai.
    assert a10.brand == "shell" and a10.status == "temporarily_closed"
    assert 121.455 < a10.lon < 121.462 and 31.224 < a10.lat < 31.229
    assert a10.opening_hours["weekly"]["sun"] == [["06:00", "22:00"]]

    # A changed row updates the station and replaces its positions; the rest stays unchanged.
    path.write_text(
        HEADER + "\n".join([ROWS[0].replace('"92,95,98;92,95"', '"92"'), ROWS[-1]]) + "\n", encoding="utf-8"
    )
    again = ingest(engine, "csv", path, tmp_path / "rejects2.csv")
    assert (again.counts.updated, again.counts.unchanged, again.counts.inserted) == (1, 1, 0)
    assert scalar(engine, nozzles, id=a1.id) == 1


def _feature(ext_id: str, name: str | None, lon: object, lat: object, **props: object) -> str:
    properties = {"source": "own", "external_id": ext_id, **({"name": name} if name else {}), **props}
    geometry = {"type": "Point", "coordinates": [lon, lat]}
    return orjson.dumps({"type": "Feature", "geometry": geometry, "properties": properties}).decode()


def test_own_geojson(engine: Engine, tmp_path: Path) -> None:
    features = [
        _feature("G1", "中国石油站", 121.48, 31.22, opening_hours="24h", grades=["95", "0#"]),  # line 3
        _feature("G2", "Swapped", 31.22, 121.48),  # line 4
        _feature("G3", None, 121.48, 31.22),  # line 5: missing name
        _feature("G4", "Hours", 121.48, 31.22, opening_hours={"weekly": {"xyz": []}}),  # line 6
        '{"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}}',  # 7
        _feature("G5", "WGS row", 121.48, 31.22, coord="wgs84"),  # line 8: per-feature override
    ]
    text_ = (
        '{"type": "FeatureCollection", "coord": "gcj02",\n"features": [\n' + ",\n".join(features) + "\n]}\n"
    )
    path = tmp_path / "own.geojson"
    path.write_text(text_, encoding="utf-8")
    summary = ingest(engine, "geojson", path, tmp_path / "rejects.csv")
    got = [(line, reason.split(":")[0]) for line, reason, _ in rejects_of(tmp_path / "rejects.csv")]
    assert got == [
        (4, "swapped lat/lon"),
        (5, "missing name"),
        (6, "bad opening_hours"),
        (7, "unparsable feature"),
    ]
    assert (summary.read, summary.counts.inserted) == (6, 2)
    with engine.connect() as conn:
        rows: dict[str, float] = dict(
            conn.execute(
                text(
                    "SELECT i.external_id, ST_X(s.geom) "
                    "FROM stations s JOIN station_identifiers i ON i.station_id = s.id"
                )
            ).all()
        )
    assert rows["G5"] == 121.48  # wgs84 stays as given
    assert 121.473 < rows["G1"] < 121.478  # GCJ-02 -> WGS-84 shifts ~ -0.0045 lon in Shanghai

    # A JSON syntax error keeps the features before it and rejects the rest from its line.
    path.write_text(text_.replace(features[-1], features[-1][:-5] + " oops"), encoding="utf-8")
    broken = ingest(engine, "geojson", path, tmp_path / "rejects2.csv")
    last = rejects_of(tmp_path / "rejects2.csv")[-1]
    assert last[0] == 8 and last[1].startswith("unparsable JSON")
    assert broken.counts.unchanged == 1
