"""France and Italy national feeds: exact reject and insert counts, and an idempotent re-run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import Engine

from tests.ingest.support import catalogue_counts, ingest, max_updated_at, rejects_of, scalar

FR = "fr-prix-carburants-20221012"
IT = "it-mimit-carburanti-20260821/anagrafica_impianti_attivi.csv"


def test_france_feed(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    summary = ingest(engine, "fr", shared_data / FR / "stations.csv", tmp_path / "fr.csv")
    # 13,509 stations: 74 have empty coordinates; 5 lie far north of France (lat 54-62, e.g. Stains at
    # lat 62.6); 6 are inside the box but > 150 km from their département's other stations (4 geocoded
    # to central Paris or to a namesake town, 1 motorway area in Burgundy instead of the Eure, Pau in
    # the Médoc). Everything else is stored.
    rejects = rejects_of(tmp_path / "fr.csv")
    reasons = Counter(reason.split(":")[0] for _, reason, _ in rejects)
    assert reasons == {
        "missing coordinates": 74,
        "outside metropolitan France": 5,
        "implausible coordinates": 6,
    }
    assert (summary.read, summary.rejected, summary.counts.inserted) == (13509, 85, 13424)
    assert (2, "missing coordinates") not in {(line, r) for line, r, _ in rejects}
    assert (45, "missing coordinates") in {(line, r) for line, r, _ in rejects}  # 1200004, BELLEGARDE
    # Réunion by postcode 97420 keeps its own timezone; the feed's first station has its grades/services.
    assert scalar(engine, "SELECT count(*) FROM stations WHERE timezone = 'Indian/Reunion'") == 1
    with engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(
            text(
                "SELECT s.name, s.brand, s.grades, s.services, s.timezone FROM stations s "
                "JOIN station_identifiers i ON i.station_id = s.id "
                "WHERE i.source = 'fr-prix-carburants' AND i.external_id = :id"
            ),
            {"id": "1000001"},
        ).one()
    assert row.name == "SAINT-DENIS-LÈS-BOURG – 596 AVENUE DE TREVOUX"
    assert row.brand == "independent" and row.timezone == "Europe/Paris"
    assert {"B7", "95"} <= set(row.grades)  # priced Gazole and SP95
    assert {"air_pump", "atm", "lpg"} <= set(row.services)
    # 124 stations have a closure in fermetures.csv; those still running on the feed date are flagged.
    closed = scalar(engine, "SELECT count(*) FROM stations WHERE status = 'temporarily_closed'")
    assert 0 < closed <= 124

    before, stamp = catalogue_counts(engine), max_updated_at(engine)
    again = ingest(engine, "fr", shared_data / FR / "stations.csv", tmp_path / "fr2.csv")
    assert (again.counts.unchanged, again.counts.inserted, again.counts.updated, again.rejected) == (
        13424,
        0,
        0,
        85,
    )
    assert catalogue_counts(engine) == before and max_updated_at(engine) == stamp


def test_italy_feed(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    summary = ingest(engine, "it", shared_data / IT, tmp_path / "it.csv")
    # 23,973 data rows (lines 3..23975). The 112 rows with a stray '|' (11 or 12 fields) and the 22 with
    # TABs are re-assembled and stored. 16 rows have an empty Nome Impianto and are rejected (3 of them
    # also lack coordinates; the name is checked first).
    rejects = rejects_of(tmp_path / "it.csv")
    assert [reason for _, reason, _ in rejects] == ["missing name (Nome Impianto)"] * 16
    assert rejects[0][0] == 1207 and rejects[-1][0] == 23065  # real file line numbers
    assert (summary.read, summary.rejected, summary.counts.inserted) == (23973, 16, 23957)
    with engine.connect() as conn:
        from sqlalchemy import text

        row = conn.execute(
            text(
                "SELECT s.name, s.address, s.brand, s.grades, s.timezone FROM stations s "
                "JOIN station_identifiers i ON i.station_id = s.id WHERE i.external_id = :id"
            ),
            {"id": "54386"},  # line 11656: 12 fields, stray '|' in Gestore and in the name
        ).one()
    assert row.name == "PRADELLI - MONTEOMBRARO | gestori.prezzibenzina.it"
    assert row.address == "Via dei Martiri 255 41059"
    assert row.brand == "pompe-bianche" and row.timezone == "Europe/Rome"
    assert scalar(engine, "SELECT count(*) FROM stations WHERE name LIKE '%' || chr(9) || '%'") == 0
    assert scalar(engine, "SELECT count(*) FROM stations WHERE brand = 'agip-eni'") > 4000
    assert scalar(engine, "SELECT count(*) FROM stations WHERE 'CNG' = ANY(grades)") > 1000

    before = catalogue_counts(engine)
    again = ingest(engine, "it", shared_data / IT, tmp_path / "it2.csv")
    assert (again.counts.unchanged, again.counts.inserted, again.counts.updated) == (23957, 0, 0)
    assert catalogue_counts(engine) == before
