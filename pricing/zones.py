"""Which price zone (价区) a station's guide price comes from.

Province: the adcode's first two digits (NN0000), else the province name (with or without 省/市/自治区).
A province with one zone -> that zone ('single-zone'). Otherwise the official region mapping
(price_zone_regions, from regions/regions.json: locality "昆明", "曲靖会泽", ...) is matched against the
station's names: the longest locality that begins the city name gives the city's zone ('city'); that
locality followed by the county name may name a county-level zone ('county', e.g. 楚雄市 in 楚雄州).
Stations that match nothing are reported with the reason, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from pricing import repository

PROVINCES: dict[str, str] = {
    "110000": "北京",
    "120000": "天津",
    "130000": "河北",
    "140000": "山西",
    "150000": "内蒙古",
    "210000": "辽宁",
    "220000": "吉林",
    "230000": "黑龙江",
    "310000": "上海",
    "320000": "江苏",
    "330000": "浙江",
    "340000": "安徽",
    "350000": "福建",
    "360000": "江西",
    "370000": "山东",
    "410000": "河南",
    "420000": "湖北",
    "430000": "湖南",
    "440000": "广东",
    "450000": "广西",
    "460000": "海南",
    "500000": "重庆",
    "510000": "四川",
    "520000": "贵州",
    "530000": "云南",
    "540000": "西藏",
    "610000": "陕西",
    "620000": "甘肃",
    "630000": "青海",
    "640000": "宁夏",
    "650000": "新疆",
}
BY_NAME = {name: code for code, name in PROVINCES.items()}


def province_code(adcode: str | None, province: str | None) -> str | None:
    if adcode and len(adcode) == 6 and adcode.isdigit() and f"{adcode[:2]}0000" in PROVINCES:
        return f"{adcode[:2]}0000"
    name = (province or "").strip()
    for short, code in BY_NAME.items():
        if name.startswith(short):
            return code
    return None


@dataclass
class ZoneBook:
    """The stored zone definitions: zones per province and (locality, zone) pairs, longest first."""

    zones: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    localities: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, engine: Engine) -> ZoneBook:
        book = cls()
        with engine.connect() as conn:
            zones, regions = repository.zone_tables(conn)
        for province, zone, *_ in zones:
            book.zones[province].append(zone)
        for _region, province, zone, locality in regions:
            if locality and zone in book.zones[province]:
                book.localities[province].append((locality, zone))
        for pairs in book.localities.values():
            pairs.sort(key=lambda p: -len(p[0]))
        return book

    def _longest(self, province: str, name: str) -> tuple[str, str] | None:
        return next(((loc, z) for loc, z in self.localities.get(province, []) if name.startswith(loc)), None)

    def resolve(
        self, adcode: str | None, province: str | None, city: str | None, county: str | None
    ) -> tuple[str, str, str] | str:
        """(province_code, zone_code, resolved_by), or the reason there is none."""
        code = province_code(adcode, province)
        if code is None:
            return f"no province from adcode {adcode!r} / province {province!r}"
        zones = self.zones.get(code, [])
        if not zones:
            return f"no price zones stored for {PROVINCES[code]} ({code})"
        if len(zones) == 1:
            return code, zones[0], "single-zone"
        city_match = self._longest(code, city or "") if city else None
        if city_match and county:
            county_match = self._longest(code, city_match[0] + county)
            if county_match and county_match[0] != city_match[0]:
                return code, county_match[1], "county"
        if city_match:
            return code, city_match[1], "city"
        return (
            f"{PROVINCES[code]} has {len(zones)} price zones and none matches city {city!r} county {county!r}"
        )


@dataclass
class ZoneSummary:
    resolved: int
    changed: int
    unresolved: list[tuple[int, str]]

    def line(self) -> str:
        return (
            f"price zones: {self.resolved} stations resolved ({self.changed} changed), "
            f"{len(self.unresolved)} unresolved"
        )


def assign_zones(engine: Engine, station_ids: Sequence[int] | None = None) -> ZoneSummary:
    """Resolve every station's zone (station_price_zones); unresolved stations lose any stored zone."""
    book = ZoneBook.load(engine)
    with engine.connect() as conn:
        stations = conn.execute(
            text("SELECT id, adcode, province, city, county FROM stations ORDER BY id")
        ).all()
    wanted = set(station_ids) if station_ids is not None else None
    rows: list[tuple[int, str, str, str]] = []
    unresolved: list[tuple[int, str]] = []
    for sid, adcode, province, city, county in stations:
        if wanted is not None and sid not in wanted:
            continue
        found = book.resolve(adcode, province, city, county)
        if isinstance(found, str):
            unresolved.append((int(sid), found))
        else:
            rows.append((int(sid), *found))
    with engine.begin() as conn:
        cur = conn.connection.cursor()
        try:
            changed = repository.store_station_zones(
                cur, rows, [sid for sid, _ in unresolved], all_stations=wanted is None
            )
        finally:
            cur.close()
    return ZoneSummary(len(rows), changed, unresolved)
