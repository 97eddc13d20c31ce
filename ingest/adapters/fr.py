"""France, government feed prix-carburants (../shared/data/fr-prix-carburants-20221012/stations.csv).

The feed has no names or brands: name = "<ville> – <adresse>", brand "independent". Region check:
metropolitan France (Corsica included) or, for 97x postcodes, the overseas department's box; then a
station more than 150 km from the median position of its département's stations is implausible
(the feed carries several stations geocoded to central Paris or to another town of the same name).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from geo.records import StationRecord
from ingest.adapters.csvrows import csv_rows
from ingest.adapters.fr_extras import Extras, load_extras
from ingest.checks import Inside, bbox, locate
from ingest.items import BadRow, Item, Parsed, Reject, SourceError

SOURCE = "fr-prix-carburants"
HEADER = ["id", "latitude", "longitude", "cp", "pop", "adresse", "ville"]
METROPOLE = bbox(-5.3, 41.3, 9.7, 51.2)
# postcode prefix -> (region name, box, timezone)
OVERSEAS: dict[str, tuple[str, Inside, str]] = {
    "971": ("Guadeloupe", bbox(-63.2, 15.8, -60.9, 18.2), "America/Guadeloupe"),
    "972": ("Martinique", bbox(-61.3, 14.3, -60.7, 14.95), "America/Martinique"),
    "973": ("French Guiana", bbox(-54.7, 2.1, -51.5, 5.9), "America/Cayenne"),
    "974": ("Réunion", bbox(55.2, -21.45, 55.9, -20.85), "Indian/Reunion"),
    "976": ("Mayotte", bbox(44.9, -13.05, 45.35, -12.6), "Indian/Mayotte"),
}
OUTLIER_KM = 150.0
MIN_STATIONS_FOR_OUTLIER_CHECK = 5


def _department(cp: str) -> str:
    return cp[:3] if cp.startswith("97") else cp[:2]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    mean_lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * math.cos(mean_lat), a[1] - b[1]) * 111.195


def _record(fields: list[str], extras: Extras) -> StationRecord:
    if len(fields) != len(HEADER):
        raise BadRow(f"unparsable line: {len(fields)} fields, expected {len(HEADER)}")
    sid, lat, lon, cp, _pop, address, town = (" ".join(f.split()) for f in fields)
    if not sid:
        raise BadRow("missing id")
    if not (town or address):
        raise BadRow("missing name: neither ville nor adresse")
    if town and not any("a" <= c <= "z" for c in town):
        town = town.upper()  # the feed lower-cases accents inside upper-case names: LèS -> LÈS
    region, inside, timezone = "metropolitan France", METROPOLE, "Europe/Paris"
    if cp[:3] in OVERSEAS:
        region, inside, timezone = OVERSEAS[cp[:3]]
    elif cp.startswith(("97", "98")):
        raise BadRow(f"postcode {cp} is in an overseas territory the feed adapter does not cover")
    wlon, wlat = locate(lon, lat, inside, region)
    return StationRecord(
        name=" – ".join(p for p in (town, address) if p),
        brand="independent",
        lon=wlon,
        lat=wlat,
        address=address,
        city=town or None,
        timezone=timezone,
        opening_hours=extras.hours(sid),
        services=tuple(sorted(extras.services.get(sid, ()))),
        grades=tuple(sorted(extras.grades.get(sid, ()))),
        status="temporarily_closed" if sid in extras.closed else "open",
        identifiers=((SOURCE, sid),),
    )


def read(path: Path) -> Iterator[Item]:
    stations = path / "stations.csv" if path.is_dir() else path
    rows = csv_rows(stations)
    if next(rows, (0, [], ""))[1] != HEADER:
        raise SourceError(f"{stations}: expected header {','.join(HEADER)}")
    extras = load_extras(stations.parent)
    parsed: list[tuple[int, str, Item]] = []
    by_department: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for line, fields, raw in rows:
        try:
            record = _record(fields, extras)
        except BadRow as exc:
            parsed.append((line, "", Reject(line, str(exc), raw)))
            continue
        department = _department(fields[3].strip())
        by_department[department].append((record.lon, record.lat))
        parsed.append((line, department, Parsed(line, record, raw)))
    medians = {
        dep: (statistics.median(p[0] for p in points), statistics.median(p[1] for p in points))
        for dep, points in by_department.items()
        if len(points) >= MIN_STATIONS_FOR_OUTLIER_CHECK
    }
    for line, department, item in parsed:
        if isinstance(item, Parsed) and department in medians:
            km = _km((item.record.lon, item.record.lat), medians[department])
            if km > OUTLIER_KM:
                yield Reject(
                    line,
                    f"implausible coordinates: {km:.0f} km from the median of "
                    f"département {department}'s stations",
                    item.raw,
                )
                continue
        yield item
