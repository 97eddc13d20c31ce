"""Jiading (Shanghai) petrol stations with Amap POI ids (../shared/data/cn-shanghai-jiading-amap-gcj02).

`location` is one quoted "lng,lat" field in GCJ-02. The research scores in the other columns are ignored.
A status suffix in the name ("(暂停营业)" suspended, "(装修中)" under renovation) -> temporarily_closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from geo.brands import brand_from_name
from geo.coords import CoordSystem
from geo.records import StationRecord
from ingest.adapters.csvrows import csv_rows
from ingest.checks import china, locate
from ingest.items import BadRow, Item, Parsed, Reject, SourceError

SOURCE = "amap"
_CLOSED_SUFFIX = re.compile(r"[(（](暂停营业|装修中|停业|暂停|歇业)[)）]\s*$")


def read(path: Path) -> Iterator[Item]:
    rows = csv_rows(path)
    header = [h.strip() for h in next(rows, (0, [], ""))[1]]
    if header[:3] != ["id", "name", "location"]:
        raise SourceError(f"{path}: expected a header starting id,name,location")
    for line, fields, raw in rows:
        try:
            if len(fields) != len(header):
                raise BadRow(f"unparsable line: {len(fields)} fields, expected {len(header)}")
            poi_id, name, location = (f.strip() for f in fields[:3])
            if not poi_id:
                raise BadRow("missing id")
            if not name:
                raise BadRow("missing name")
            parts = location.split(",")
            if len(parts) != 2:
                raise BadRow(f"unparsable location {location!r}: expected 'lng,lat'")
            lon, lat = locate(parts[0], parts[1], china, "mainland China", CoordSystem.GCJ02)
            status = "temporarily_closed" if _CLOSED_SUFFIX.search(name) else "open"
            record = StationRecord(
                name=name,
                brand=brand_from_name(name),
                lon=lon,
                lat=lat,
                province="上海市",
                city="上海市",
                county="嘉定区",
                status=status,
                identifiers=((SOURCE, poi_id),),
            )
            yield Parsed(line, record, raw)
        except BadRow as exc:
            yield Reject(line, str(exc), raw)
