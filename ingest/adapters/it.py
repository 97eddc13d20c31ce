"""Italy, MIMIT 'anagrafica impianti attivi' (../shared/data/it-mimit-carburanti-20260821).

Line 1 is a banner, line 2 the header; '|' separated, unquoted. A stray '|' inside Gestore, Nome Impianto
or Indirizzo gives 11 or 12 fields: the row is re-assembled around Tipo Impianto (Stradale/Autostradale)
and the last four fields (Comune, Provincia, Latitudine, Longitudine); extra pieces after the type belong
to the name, the last piece is the address. TABs inside fields become spaces.
Grades come from prezzo_alle_8.csv beside the file when present.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from geo.brands import brand_code
from geo.records import StationRecord
from ingest.checks import bbox, locate
from ingest.items import BadRow, Item, Parsed, Reject, SourceError

SOURCE = "it-mimit"
HEADER = (
    "idImpianto|Gestore|Bandiera|Tipo Impianto|Nome Impianto|Indirizzo|Comune|Provincia|"
    "Latitudine|Longitudine"
)
TYPES = ("Stradale", "Autostradale")
GRADES = {"Benzina": "95", "Gasolio": "B7", "GPL": "LPG", "Metano": "CNG"}
# Mainland Italy, Sicily, Sardinia, Lampedusa and Pantelleria (San Marino and Vatican lie inside).
ITALY = bbox(6.6, 35.4, 18.6, 47.1)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _fields(line: str) -> tuple[str, ...]:
    """(id, brand, name, address, comune, provincia, lat, lon) from one data line."""
    parts = line.split("|")
    if len(parts) < 10:
        raise BadRow(f"unparsable line: {len(parts)} fields, expected 10")
    kind = next((i for i in range(3, len(parts) - 5) if parts[i].strip() in TYPES), None)
    if kind is None:
        raise BadRow("unparsable line: no Tipo Impianto (Stradale/Autostradale) field")
    middle = parts[kind + 1 : -4]
    return (
        parts[0],
        parts[kind - 1],
        "|".join(middle[:-1]),
        middle[-1],
        *parts[-4:],
    )


def load_grades(path: Path) -> dict[str, set[str]]:
    grades: dict[str, set[str]] = defaultdict(set)
    if not path.is_file():
        return grades
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("|")
            if number > 2 and len(parts) >= 2 and parts[1] in GRADES:
                grades[parts[0]].add(GRADES[parts[1]])
    return grades


def read(path: Path) -> Iterator[Item]:
    with path.open(encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if len(lines) < 2 or lines[1].rstrip("\r") != HEADER:
        raise SourceError(f"{path}: line 2 must be the header {HEADER}")
    grades = load_grades(path.parent / "prezzo_alle_8.csv")
    for number, text in enumerate(lines[2:], 3):
        raw = text.rstrip("\r")
        if not raw.strip():
            continue
        try:
            sid, brand, name, address, town, province, lat, lon = (_clean(f) for f in _fields(raw))
            if not sid:
                raise BadRow("missing idImpianto")
            if not name:
                raise BadRow("missing name (Nome Impianto)")
            wlon, wlat = locate(lon, lat, ITALY, "Italy")
            record = StationRecord(
                name=name,
                brand=brand_code(brand) if brand else "private",
                lon=wlon,
                lat=wlat,
                address=address,
                province=province or None,
                city=town or None,
                timezone="Europe/Rome",
                grades=tuple(sorted(grades.get(sid, ()))),
                identifiers=((SOURCE, sid),),
            )
            yield Parsed(number, record, raw)
        except BadRow as exc:
            yield Reject(number, str(exc), raw)
