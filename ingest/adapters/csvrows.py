"""CSV rows with the real file line where each starts and the raw text it came from."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


def csv_rows(path: Path, *, encoding: str = "utf-8-sig") -> Iterator[tuple[int, list[str], str]]:
    """(line number, fields, raw text) for every record, the header included (line 1)."""
    lines = path.read_text(encoding=encoding).splitlines(keepends=True)
    reader = csv.reader(iter(lines))
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. an unterminated quote at end of file
            yield start, [f"\0csv error: {exc}"], "".join(lines[start - 1 : reader.line_num])
            return
        end = reader.line_num
        raw = "".join(lines[start - 1 : end]).rstrip("\r\n")
        if raw.strip():
            yield start, fields, raw
        start = end + 1
