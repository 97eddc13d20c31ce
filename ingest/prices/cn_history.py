"""China, provincial price history 2021-03 .. 2022-12 (youjia_province_price_changes.csv).

One row per change of a province's price tuple; the guide price of 92#, 95#, 98# and 0# takes effect at
first_source_updated_at (China local time) and is confirmed at first_seen_utc. 89# is ignored: the
source says it is often 0 and stale elsewhere. A price '0' (not published by the site) is rejected.
The prices apply to the province's default zone: the zone regions.json gives the bare province name
(云南 -> yunnan-1, 内蒙古 -> west) or the province's only zone; `--format cn-official` must run first.
Source 'youjia' (third-party aggregator, no licence: internal use).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from ingest.adapters.csvrows import csv_rows
from ingest.items import BadRow, Reject, SourceError
from ingest.prices.items import GuidePrice, PriceItem, decimal
from pricing.ladder import GuideUpdate
from pricing.zones import BY_NAME

SOURCE = "youjia"
FILE = "youjia_province_price_changes.csv"
HEADER = ["region", "first_source_updated_at", "p89", "p92", "p95", "p98", "p0_diesel", "first_seen_utc"]
GRADES = {"p92": "92", "p95": "95", "p98": "98", "p0_diesel": "0"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def default_zones(engine: Engine) -> dict[str, str]:
    """province_code -> its default zone (the bare province's region entry, else its only zone)."""
    with engine.connect() as conn:
        bare = conn.execute(
            text("SELECT province_code, zone_code FROM price_zone_regions WHERE locality IS NULL")
        ).all()
        single = conn.execute(
            text("SELECT province_code, min(zone_code) FROM price_zones GROUP BY 1 HAVING count(*) = 1")
        ).all()
    zones = {str(p): str(z) for p, z in single}
    zones.update({str(p): str(z) for p, z in bare})
    return zones


def read(path: Path, engine: Engine) -> Iterator[PriceItem]:
    path = path / FILE if path.is_dir() else path
    rows = csv_rows(path)
    if next(rows, (0, [], ""))[1] != HEADER:
        raise SourceError(f"{path}: expected header {','.join(HEADER)}")
    zones = default_zones(engine)
    for line, fields, raw in rows:
        try:
            if len(fields) != len(HEADER):
                raise BadRow(f"unparsable line: {len(fields)} fields, expected {len(HEADER)}")
            row = dict(zip(HEADER, fields, strict=True))
            code = BY_NAME.get(row["region"].strip())
            if code is None:
                raise BadRow(f"unknown province {row['region']!r}")
            if code not in zones:
                raise BadRow(f"no price zone stored for {row['region']} ({code}): ingest cn-official first")
            try:
                effective = datetime.strptime(row["first_source_updated_at"], "%Y-%m-%d %H:%M:%S")
                confirmed = datetime.fromisoformat(row["first_seen_utc"].replace("Z", "+00:00"))
            except ValueError:
                raise BadRow("unparsable first_source_updated_at / first_seen_utc") from None
        except BadRow as exc:
            yield Reject(line, str(exc), raw)
            continue
        for column, grade in GRADES.items():
            try:
                price = decimal(row[column], column)
                if price == 0:
                    raise BadRow(f"{grade}# not published (price 0)")
            except BadRow as exc:
                yield Reject(line, str(exc), raw)
                continue
            update = GuideUpdate(
                code, zones[code], grade, price, effective.replace(tzinfo=SHANGHAI), SOURCE, confirmed
            )
            yield GuidePrice(line, raw, update)
