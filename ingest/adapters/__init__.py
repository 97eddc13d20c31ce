"""One adapter per input format: `read(path)` yields Parsed records and Rejects, in file order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ingest.adapters import fr, it, jiading_gcj02, own_csv, own_geojson, shanghai_bd09
from ingest.items import Item

Adapter = Callable[[Path], Iterator[Item]]

ADAPTERS: dict[str, Adapter] = {
    "csv": own_csv.read,
    "geojson": own_geojson.read,
    "fr": fr.read,
    "it": it.read,
    "shanghai-bd09": shanghai_bd09.read,
    "jiading-gcj02": jiading_gcj02.read,
}
