"""Price items -> duplicate check -> batches (one transaction each) -> rejects CSV (line, reason, raw).

Zones and regions are upserted as they come; guide prices go through the window writer; station prices
are matched to stations by (identifier source, external id) (unknown -> rejected), validated and written
by pricing.ladder. After a file that defined zones, every station's zone is resolved again.
"""

from __future__ import annotations

import csv
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ingest.items import Reject
from ingest.prices import cn_history, cn_official, fr, it
from ingest.prices.items import GuidePrice, PriceAdapter, PriceItem, RegionDef, StationPrice, ZoneDef
from pricing import repository
from pricing.ladder import PriceUpdate, write_guides, write_prices
from pricing.validation import DEFAULT_RULES, Context, Quote, Rules, check
from pricing.zones import ZoneSummary, assign_zones

ADAPTERS: dict[str, PriceAdapter] = {
    "cn-official": cn_official.read,
    "cn-history": cn_history.read,
    "fr": fr.read,
    "it": it.read,
}
_STATIONS = """
SELECT k.source, k.external_id, si.station_id
FROM unnest(%s::text[], %s::text[]) AS k(source, external_id)
JOIN station_identifiers si ON si.source = k.source AND si.external_id = k.external_id
"""


@dataclass
class PriceSummary:
    read: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    zones: int = 0
    regions_changed: int = 0
    zone_summary: ZoneSummary | None = None
    rejects_path: Path = Path()
    elapsed: float = 0.0

    def line(self) -> str:
        c = self.counts
        text_ = (
            f"read {self.read}, inserted {c['inserted']}, updated {c['updated']}, "
            f"confirmed {c['confirmed']}, unchanged {c['unchanged']}, rejected {self.rejected} "
            f"(rejects: {self.rejects_path})"
        )
        if self.zones:
            text_ += f", zones {self.zones}, regions changed {self.regions_changed}"
        if self.zone_summary is not None:
            text_ += f"; {self.zone_summary.line()}"
        return text_ + f", elapsed {self.elapsed:.1f}s"


class _Run:
    def __init__(self, engine: Engine, out: Any, summary: PriceSummary, now: datetime | None, rules: Rules):
        self.engine, self.out, self.summary, self.now, self.rules = engine, out, summary, now, rules

    def reject(self, line: int, reason: str, raw: str) -> None:
        self.summary.rejected += 1
        self.out.writerow([line, reason, raw])

    def flush(self, batch: Sequence[PriceItem]) -> None:
        zones = [i.row for i in batch if isinstance(i, ZoneDef)]
        regions = [i.row for i in batch if isinstance(i, RegionDef)]
        if zones or regions:
            with self.engine.begin() as conn:
                cur = conn.connection.cursor()
                repository.upsert_zones(cur, zones)
                self.summary.regions_changed += repository.upsert_regions(cur, regions)
                cur.close()
            self.summary.zones += len(zones)
        self._guides([i for i in batch if isinstance(i, GuidePrice)])
        self._stations([i for i in batch if isinstance(i, StationPrice)])

    def _guides(self, items: Sequence[GuidePrice]) -> None:
        good: list[GuidePrice] = []
        for item in items:
            u = item.update
            quote = Quote(u.grade, "pump", u.price, u.currency, u.effective_from)
            reason = check(quote, Context(), self.now or datetime.now(u.effective_from.tzinfo), self.rules)
            if reason is None:
                good.append(item)
            else:
                self.reject(item.line, reason, item.raw)
        if good:
            self.summary.counts.update(write_guides(self.engine, [i.update for i in good]))

    def _stations(self, items: Sequence[StationPrice]) -> None:
        if not items:
            return
        with self.engine.connect() as conn:
            cur = conn.connection.cursor()
            cur.execute(_STATIONS, ([i.id_source for i in items], [i.external_id for i in items]))
            ids = {(r[0], r[1]): int(r[2]) for r in cur.fetchall()}
            cur.close()
        known: list[StationPrice] = []
        for item in items:
            if (item.id_source, item.external_id) in ids:
                known.append(item)
            else:
                self.reject(item.line, f"unknown station {item.id_source} {item.external_id!r}", item.raw)
        updates = [
            PriceUpdate(
                ids[(i.id_source, i.external_id)],
                i.grade,
                i.tier,
                i.price,
                i.effective_from,
                i.source,
                i.currency,
                i.effective_from,
            )
            for i in known
        ]
        for item, outcome in zip(
            known, write_prices(self.engine, updates, now=self.now, rules=self.rules), strict=True
        ):
            if outcome.status == "rejected":
                self.reject(item.line, outcome.reason or "rejected", item.raw)
            else:
                self.summary.counts[outcome.status] += 1


def run(
    items: Iterable[PriceItem],
    engine: Engine,
    rejects_path: Path,
    *,
    batch_size: int = 500,
    now: datetime | None = None,
    rules: Rules = DEFAULT_RULES,
) -> PriceSummary:
    started = time.monotonic()
    summary = PriceSummary(rejects_path=rejects_path)
    seen: dict[tuple[object, ...], int] = {}
    batch: list[PriceItem] = []
    with rejects_path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["line", "reason", "raw"])
        state = _Run(engine, out, summary, now, rules)
        for item in items:
            summary.read += 1
            if isinstance(item, Reject):
                state.reject(item.line, item.reason, item.raw)
                continue
            if isinstance(item, GuidePrice | StationPrice):
                if item.key in seen:
                    state.reject(item.line, f"duplicate price (first on line {seen[item.key]})", item.raw)
                    continue
                seen[item.key] = item.line
            batch.append(item)
            if len(batch) >= batch_size:
                state.flush(batch)
                fh.flush()
                batch = []
        if batch:
            state.flush(batch)
    if summary.zones:
        summary.zone_summary = assign_zones(engine)
    summary.elapsed = time.monotonic() - started
    return summary


def ingest_prices(engine: Engine, fmt: str, path: Path, rejects: Path, **kwargs: Any) -> PriceSummary:
    return run(ADAPTERS[fmt](path, engine), engine, rejects, **kwargs)
