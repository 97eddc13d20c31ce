"""The demo network's official guide prices: the project's derived copy of the 2026-04-21 provincial table
(demodata/guide_prices, written by demodata/derive_guides.py), loaded through the cn-official price ingest,
which also assigns every station its price zone. Real official prices, unlike the synthetic pump prices."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import Engine

from ingest.prices.pipeline import PriceSummary, ingest_prices

GUIDE_TABLE = Path(__file__).resolve().parent / "guide_prices"


def load_guides(engine: Engine) -> PriceSummary:
    """Store the guide prices and zones (a re-run changes nothing) and assign the stations' zones."""
    with tempfile.TemporaryDirectory(prefix="demo-guides-") as tmp:
        return ingest_prices(engine, "cn-official", GUIDE_TABLE, Path(tmp) / "rejects.csv")
