"""Italy, MIMIT prezzo_alle_8.csv: prices at 08:00 per station, fuel and mode, in EUR.

Line 1 is a banner, line 2 the header; '|' separated. Benzina -> 95, Gasolio -> B7, GPL -> LPG,
Metano -> CNG; the brands' premium fuels (Blue Diesel, HVOlution, ...) are rejected as unknown grades.
isSelf 1 -> tier pump (self-service), 0 -> tier attended (servito). dtComu 'dd/mm/yyyy HH:MM:SS'
Europe/Rome = effective_from and confirmed_at. Stations via station_identifiers source 'it-mimit'.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ingest.adapters.it import GRADES
from ingest.adapters.it import SOURCE as ID_SOURCE
from ingest.items import BadRow, Reject, SourceError
from ingest.prices.items import PriceItem, StationPrice, decimal

SOURCE = "it-mimit"
HEADER = "idImpianto|descCarburante|prezzo|isSelf|dtComu"
TIERS = {"1": "pump", "0": "attended"}
ROME = ZoneInfo("Europe/Rome")


def read(path: Path, engine: Engine) -> Iterator[PriceItem]:
    del engine
    path = path / "prezzo_alle_8.csv" if path.is_dir() else path
    with path.open(encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if len(lines) < 2 or lines[1].rstrip("\r") != HEADER:
        raise SourceError(f"{path}: line 2 must be the header {HEADER}")
    for number, text in enumerate(lines[2:], 3):
        raw = text.rstrip("\r")
        if not raw.strip():
            continue
        try:
            parts = [p.strip() for p in raw.split("|")]
            if len(parts) != 5:
                raise BadRow(f"unparsable line: {len(parts)} fields, expected 5")
            station, fuel, value, is_self, stamp = parts
            if fuel not in GRADES:
                raise BadRow(f"unknown grade {fuel!r} (mapped: {', '.join(GRADES)})")
            if is_self not in TIERS:
                raise BadRow(f"isSelf must be 0 or 1, got {is_self!r}")
            try:
                when = datetime.strptime(stamp, "%d/%m/%Y %H:%M:%S").replace(tzinfo=ROME)
            except ValueError:
                raise BadRow(f"unparsable dtComu {stamp!r}") from None
            yield StationPrice(
                number,
                raw,
                ID_SOURCE,
                station,
                GRADES[fuel],
                TIERS[is_self],
                decimal(value),
                "EUR",
                when,
                SOURCE,
            )
        except BadRow as exc:
            yield Reject(number, str(exc), raw)
