"""Shanghai fuel-station POIs crawled from Baidu (../shared/data/cn-shanghai-pois-bd09): BD-09 -> WGS-84."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from geo.brands import brand_from_name
from geo.coords import CoordSystem
from geo.records import StationRecord
from ingest.adapters.csvrows import csv_rows
from ingest.checks import china, locate
from ingest.items import BadRow, Item, Parsed, Reject, SourceError

SOURCE = "baidu-poi-shanghai"
HEADER = ["feature_index", "name", "address", "district", "lng_bd09", "lat_bd09"]


def read(path: Path) -> Iterator[Item]:
    rows = csv_rows(path)
    header = next(rows, (0, [], ""))[1]
    if header != HEADER:
        raise SourceError(f"{path}: expected header {','.join(HEADER)}")
    for line, fields, raw in rows:
        try:
            if len(fields) != len(HEADER):
                raise BadRow(f"unparsable line: {len(fields)} fields, expected {len(HEADER)}")
            index, name, address, district, lng, lat = (f.strip() for f in fields)
            if not index:
                raise BadRow("missing feature_index")
            if not name:
                raise BadRow("missing name")
            lon_w, lat_w = locate(lng, lat, china, "mainland China", CoordSystem.BD09)
            record = StationRecord(
                name=name,
                brand=brand_from_name(name),
                lon=lon_w,
                lat=lat_w,
                address=address,
                province="上海市",
                city="上海市",
                county=district or None,
                identifiers=((SOURCE, index),),
            )
            yield Parsed(line, record, raw)
        except BadRow as exc:
            yield Reject(line, str(exc), raw)
