"""France, prix.csv of the prix-carburants feed: the pump price per station and fuel, in EUR.

Stations are found through station_identifiers source 'fr-prix-carburants' (ingest stations.csv first).
Gazole -> B7, SP95 -> 95, SP98 -> 98, E10 -> E10, E85 -> E85, GPLc -> LPG; tier pump; effective_from and
confirmed_at = maj (Europe/Paris local time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ingest.adapters.csvrows import csv_rows
from ingest.adapters.fr import SOURCE as ID_SOURCE
from ingest.items import BadRow, Reject, SourceError
from ingest.prices.items import PriceItem, StationPrice, decimal

SOURCE = "fr-prix-carburants"
HEADER = ["id", "nom", "maj", "valeur", "station_id"]
GRADES = {"Gazole": "B7", "SP95": "95", "SP98": "98", "E10": "E10", "E85": "E85", "GPLc": "LPG"}
PARIS = ZoneInfo("Europe/Paris")


def read(path: Path, engine: Engine) -> Iterator[PriceItem]:
    del engine
    path = path / "prix.csv" if path.is_dir() else path
    rows = csv_rows(path)
    if next(rows, (0, [], ""))[1] != HEADER:
        raise SourceError(f"{path}: expected header {','.join(HEADER)}")
    for line, fields, raw in rows:
        try:
            if len(fields) != len(HEADER):
                raise BadRow(f"unparsable line: {len(fields)} fields, expected {len(HEADER)}")
            _fuel_id, name, maj, value, station = (f.strip() for f in fields)
            if name not in GRADES:
                raise BadRow(f"unknown grade {name!r}")
            try:
                when = datetime.fromisoformat(maj).replace(tzinfo=PARIS)
            except ValueError:
                raise BadRow(f"unparsable maj {maj!r}") from None
            yield StationPrice(
                line, raw, ID_SOURCE, station, GRADES[name], "pump", decimal(value), "EUR", when, SOURCE
            )
        except BadRow as exc:
            yield Reject(line, str(exc), raw)
