"""Adapter items -> duplicate check -> batches for the writer, rejects into a CSV (line, reason, raw)."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.items import Item, Parsed, Reject
from ingest.writer import Counts, Writer


@dataclass
class Summary:
    read: int
    counts: Counts
    rejected: int
    rejects_path: Path
    elapsed: float

    def line(self) -> str:
        c = self.counts
        return (
            f"read {self.read}, inserted {c.inserted}, updated {c.updated}, unchanged {c.unchanged}, "
            f"linked {c.linked}, rejected {self.rejected} (rejects: {self.rejects_path}), "
            f"elapsed {self.elapsed:.1f}s"
        )


def run(items: Iterable[Item], writer: Writer, rejects_path: Path, *, batch_size: int = 500) -> Summary:
    started = time.monotonic()
    counts = Counts()
    seen: dict[tuple[str, str], int] = {}
    batch: list[Parsed] = []
    read = rejected = 0
    with rejects_path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["line", "reason", "raw"])
        for item in items:
            read += 1
            if isinstance(item, Parsed) and item.key in seen:
                item = Reject(
                    item.line,
                    f"duplicate external_id {item.key[1]!r} (first on line {seen[item.key]})",
                    item.raw,
                )
            if isinstance(item, Reject):
                rejected += 1
                out.writerow([item.line, item.reason, item.raw])
                continue
            seen[item.key] = item.line
            batch.append(item)
            if len(batch) >= batch_size:
                fh.flush()
                counts.add(writer.write(batch))
                batch = []
        if batch:
            counts.add(writer.write(batch))
    return Summary(read, counts, rejected, rejects_path, time.monotonic() - started)
