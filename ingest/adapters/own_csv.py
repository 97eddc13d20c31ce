"""The project's own CSV format (docs/ingest-format.md): a header naming the columns, one station a row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ingest.adapters.csvrows import csv_rows
from ingest.fields import COLUMNS, record_from_fields
from ingest.items import BadRow, Item, Parsed, Reject, SourceError

REQUIRED = ("source", "external_id", "name", "lon", "lat")


def read(path: Path) -> Iterator[Item]:
    rows = csv_rows(path)
    try:
        _, header, _ = next(rows)
    except StopIteration:
        return
    header = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SourceError(f"{path}: header lacks column(s) {', '.join(missing)}")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise SourceError(f"{path}: unknown column(s) {', '.join(unknown)}")
    for line, fields, raw in rows:
        if len(fields) != len(header):
            yield Reject(line, f"unparsable line: {len(fields)} fields, header has {len(header)}", raw)
            continue
        row = dict(zip(header, fields, strict=True))
        try:
            yield Parsed(line, record_from_fields(row, row["lon"], row["lat"]), raw)
        except BadRow as exc:
            yield Reject(line, str(exc), raw)
