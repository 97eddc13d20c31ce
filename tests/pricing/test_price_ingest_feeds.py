"""The French and Italian price files after their station files: exact reject counts, EUR, tiers, re-runs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ingest.prices.pipeline import ingest_prices
from pricing.ladder import ladder
from tests.ingest.support import ingest, rejects_of, scalar

FR = "fr-prix-carburants-20221012"


def _station(engine: Engine, source: str, external_id: str) -> int:
    return scalar(
        engine,
        "SELECT station_id FROM station_identifiers WHERE source = :s AND external_id = :e",
        s=source,
        e=external_id,
    )


def test_france_prices(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    ingest(engine, "fr", shared_data / FR / "stations.csv", tmp_path / "stations.csv")
    summary = ingest_prices(engine, "fr", shared_data / FR / "prix.csv", tmp_path / "prix.csv")
    # 21,702 prices. 2 rejected: Gazole at 9.999 (a placeholder, above the plausible EUR range) and the
    # LPG of 59113010 (AIRE DE PHALEMPIN A1), a station the station ingest rejected (geocoded to Paris).
    rejects = rejects_of(tmp_path / "prix.csv")
    assert [(line, reason) for line, reason, _ in rejects] == [
        (224, "implausible price €9.999: outside €0.2..€5"),
        (13185, "unknown station fr-prix-carburants '59113010'"),
    ]
    assert (summary.read, summary.counts["inserted"], summary.rejected) == (21702, 21700, 2)
    sid = _station(engine, "fr-prix-carburants", "1000001")
    rung = ladder(engine, sid, "B7", datetime(2022, 10, 12, tzinfo=UTC)).get("pump")
    assert rung is not None and (rung.price, rung.currency) == (Decimal("1.926"), "EUR")
    assert rung.effective_from == datetime(2022, 10, 11, 15, 12, 3, tzinfo=UTC)  # 17:12:03 Paris (CEST)
    assert rung.stale is False  # confirmed 9 hours before as_of
    assert ladder(engine, sid, "B7").get("pump").stale is True  # type: ignore[union-attr]
    again = ingest_prices(engine, "fr", shared_data / FR / "prix.csv", tmp_path / "prix2.csv")
    assert (again.counts["unchanged"], again.rejected, set(again.counts)) == (21700, 2, {"unchanged"})
    assert scalar(engine, "SELECT count(*) FROM station_prices") == 21700
    counts = Counter(r.split(" ")[0] for _, r, _ in rejects_of(tmp_path / "prix2.csv"))
    assert counts == {"implausible": 1, "unknown": 1}


IT = "it-mimit-carburanti-20260821"


@pytest.mark.slow
def test_italy_prices(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    ingest(engine, "it", shared_data / IT / "anagrafica_impianti_attivi.csv", tmp_path / "stations.csv")
    nameless = {raw.split("|")[0] for _, _, raw in rejects_of(tmp_path / "stations.csv")}
    summary = ingest_prices(engine, "it", shared_data / IT / "prezzo_alle_8.csv", tmp_path / "prezzi.csv")
    # 92,812 price lines. 18,249 are brand premium fuels (Blue Diesel 5,624, HVOlution 2,348, ...) outside
    # the four mapped ones; 45 belong to 13 of the 16 stations the station ingest rejected (no name).
    rejects = rejects_of(tmp_path / "prezzi.csv")
    kinds = Counter(reason.split(" '")[0] for _, reason, _ in rejects)
    assert kinds == {"unknown grade": 18249, "unknown station it-mimit": 45}
    assert {raw.split("|")[0] for _, r, raw in rejects if r.startswith("unknown station")} <= nameless
    assert (summary.read, summary.counts["inserted"], summary.rejected) == (92812, 74518, 18294)
    sid = _station(engine, "it-mimit", "3464")
    at = datetime(2026, 8, 21, 6, 0, tzinfo=UTC)
    petrol = ladder(engine, sid, "95", at)
    assert (petrol.get("pump").price, petrol.get("attended").price) == (Decimal("2.119"), Decimal("2.479"))  # type: ignore[union-attr]
    again = ingest_prices(engine, "it", shared_data / IT / "prezzo_alle_8.csv", tmp_path / "prezzi2.csv")
    assert (again.counts["unchanged"], again.rejected, set(again.counts)) == (74518, 18294, {"unchanged"})
