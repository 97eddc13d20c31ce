"""SYNTHETIC demo prices for the synthetic network: a pump price per station and grade, and for ~70% of
stations a lower platform (直降) price, in CNY with two decimals. Invented here, never read from anywhere.

All money is integer fen until it becomes text ("8.23"), so no float ever touches a price. Randomness is
counter-based (splitmix64 of seed, station index and a stream number), so a station's prices depend only
on (seed, its index in the generated stream, its province and grades): the same for any batch size and
independent of the station generator's own random stream. Timestamps are offsets from the load time.

Per province and grade a base price (plausible 2026 levels): 92# 7.57-8.82, 95# = 92# + 0.50-0.60,
98# = 95# + 0.95-1.05, 89# = 92# - 0.50-0.57 (within 7.00-8.20), 0# 7.27-8.52, -10# = 0# + 0.30-0.40,
-20# = 0# + 0.55-0.70, E92/E95 as 92#/95#. pump = base - a station cut of 0.00-0.15; platform = pump - a
直降 of 0.01-0.60. CNG/LNG/LPG (per kg or m3) get no price. A base never exceeds the province's lowest
official guide price (最高零售价) of the grade in the demo's guide table (demodata/guide_prices, the real
2026-04-21 prices, E92/E95 capped as 92#/95#), so no demo pump price lies above its guide rung.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from geo.records import StationRecord

SOURCE = "synthetic-demo"
CURRENCY = "CNY"
PRICED_GRADES: tuple[str, ...] = ("89", "92", "95", "98", "0", "-10", "-20", "E92", "E95")
_GRADE_INDEX = {g: i for i, g in enumerate(PRICED_GRADES)}
PRICE_COLUMNS = (
    "station_id",
    "grade",
    "tier",
    "price",
    "currency",
    "effective_from",
    "source",
    "confirmed_at",
)

PLATFORM_SHARE_PERMILLE = 700  # stations with a platform (直降) price
STALE_SHARE_PERMILLE = 30  # stations last confirmed 3-5 days before the load
MAX_CUT_FEN = 15
MAX_DROP_FEN = 60
MAX_EFFECTIVE_AGE_S = 10 * 86_400
MAX_FRESH_AGE_S = 12 * 3_600
STALE_AGE_S = (3 * 86_400, 5 * 86_400)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
# Streams of the counter-based generator.
_S_PROVINCE, _S_CUT, _S_PLATFORM, _S_DROP, _S_STALE, _S_CONFIRM, _S_EFFECTIVE = range(7)
_PRICE_TEXT = tuple(f"{f // 100}.{f % 100:02d}" for f in range(2001))  # fen -> "yuan.fen", up to 20.00


def _mix(x: U64) -> U64:
    """splitmix64's finaliser, elementwise (uint64 arithmetic wraps)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _draw(seed: int, keys: I64 | U64, stream: int, below: int) -> I64:
    """Integers in [0, below) for each key, deterministic for (seed, key, stream)."""
    salt = np.uint64((int(_mix(np.array([seed & _MASK], dtype=np.uint64))[0]) + stream * _GOLDEN) & _MASK)
    with np.errstate(over="ignore"):
        x = _mix(_mix(keys.astype(np.uint64) ^ salt) + np.uint64(_GOLDEN))
    return (x % np.uint64(below)).astype(np.int64)


def _one(seed: int, key: int, stream: int, below: int) -> int:
    return int(_draw(seed, np.array([key], dtype=np.uint64), stream, below)[0])


_GUIDE_FILE = Path(__file__).resolve().parent / "guide_prices" / "2026-04-21.json"
_GUIDE_OF = {"89": "89", "92": "92", "95": "95", "0": "0", "E92": "92", "E95": "95"}


_SUSPECT_FEN = 150


@lru_cache(maxsize=1)
def guide_caps() -> dict[str, dict[str, int]]:
    """Per province (full name) and grade, the lowest official guide price of its zones, in fen. A price
    more than ¥1.50 from its grade's median over every zone caps nothing: the table's 海南 zone gives 89#
    6.14 and 95# 5.83 beside 92# 8.53, a slip of the source (it is still loaded and shown as it is)."""
    table = json.loads(_GUIDE_FILE.read_text(encoding="utf-8"))
    zones = [(p["province_name"], z["items"]) for p in table["provinces"] for z in p["zones"]]
    fen = {
        (i, grade): int(round(Decimal(str(items[grade])) * 100))
        for i, (_, items) in enumerate(zones)
        for grade in set(_GUIDE_OF.values())
        if items.get(grade) is not None
    }
    median = {g: int(np.median([v for (_, k), v in fen.items() if k == g])) for g in set(_GUIDE_OF.values())}
    caps: dict[str, dict[str, int]] = {}
    for i, (province, _) in enumerate(zones):
        found = caps.setdefault(province, {})
        for grade, official in _GUIDE_OF.items():
            price = fen.get((i, official))
            if price is not None and abs(price - median[official]) <= _SUSPECT_FEN:
                found[grade] = min(found.get(grade, price), price)
    return caps


def province_bases(province: str, seed: int) -> dict[str, int]:
    """Base price in fen per priced grade for a province (deterministic for province and seed)."""
    key = zlib.crc32(province.encode())
    level = _one(seed, key, _S_PROVINCE, 111)  # how expensive the province is, shared by all grades
    jitter = [_one(seed, key * 16 + i + 1, _S_PROVINCE, 16) for i in range(8)]
    b92 = 757 + level + jitter[0] % 11
    b95 = b92 + 50 + jitter[1] % 11
    b98 = b95 + 95 + jitter[2] % 11
    b89 = min(max(b92 - 50 - jitter[3] % 8, 700), 820)
    b0 = 727 + level + jitter[4] % 16
    return {
        "89": b89,
        "92": b92,
        "95": b95,
        "98": b98,
        "0": b0,
        "-10": b0 + 30 + jitter[5] % 11,
        "-20": b0 + 55 + jitter[6] % 16,
        "E92": b92,
        "E95": b95,
    }


@dataclass(frozen=True)
class StationPrices:
    """Price rows for a run of stations, one per (station, grade, tier), as arrays."""

    station: I64  # offset of the station in the run
    grade: I64  # index into PRICED_GRADES
    platform: npt.NDArray[np.bool_]  # False: pump row, True: platform row
    price_fen: I64
    effective_from: list[str]  # per station in the run (COPY timestamptz text)
    confirmed_at: list[str]
    stale: npt.NDArray[np.bool_]  # per station

    def __len__(self) -> int:
        return len(self.station)

    def price_text(self, i: int) -> str:
        return _PRICE_TEXT[int(self.price_fen[i])]

    def copy_payload(self, first_station_id: int) -> bytes:
        """COPY text rows for station_prices (columns PRICE_COLUMNS); station ids from first_station_id."""
        sid = (self.station + first_station_id).tolist()
        st = self.station.tolist()
        grades = [PRICED_GRADES[g] for g in self.grade.tolist()]
        tiers = ["platform" if p else "pump" for p in self.platform.tolist()]
        prices = [_PRICE_TEXT[f] for f in self.price_fen.tolist()]
        eff, conf = self.effective_from, self.confirmed_at
        return "".join(
            f"{sid[i]}\t{grades[i]}\t{tiers[i]}\t{prices[i]}\t{CURRENCY}\t{eff[st[i]]}\t{SOURCE}\t{conf[st[i]]}\n"
            for i in range(len(sid))
        ).encode()


def _stamps(loaded_at: datetime, ages_s: I64) -> list[str]:
    base = np.datetime64(loaded_at.astimezone(UTC).replace(tzinfo=None, microsecond=0), "s")
    return [f"{t}+00" for t in (base - ages_s.astype("timedelta64[s]")).astype(str).tolist()]


def station_prices(
    records: Sequence[StationRecord], *, seed: int, start: int, loaded_at: datetime
) -> StationPrices:
    """Prices for `records`, the stations number start, start+1 ... of the generated stream."""
    n = len(records)
    index = np.arange(start, start + n, dtype=np.int64)
    bases: dict[str, list[int]] = {}
    station_list: list[int] = []
    grade_list: list[int] = []
    base_list: list[int] = []
    for k, record in enumerate(records):
        province = record.province or ""
        if province not in bases:
            found = province_bases(province, seed)
            caps = guide_caps().get(province, {})
            bases[province] = [min(found[g], caps.get(g, found[g])) for g in PRICED_GRADES]
        table = bases[province]
        for code in record.grades:
            g = _GRADE_INDEX.get(code)
            if g is not None:
                station_list.append(k)
                grade_list.append(g)
                base_list.append(table[g])
    station = np.array(station_list, dtype=np.int64)
    grade = np.array(grade_list, dtype=np.int64)
    cut = _draw(seed, index, _S_CUT, MAX_CUT_FEN + 1)
    has_platform = _draw(seed, index, _S_PLATFORM, 1000) < PLATFORM_SHARE_PERMILLE
    drop = 1 + _draw(seed, index, _S_DROP, MAX_DROP_FEN)
    stale = _draw(seed, index, _S_STALE, 1000) < STALE_SHARE_PERMILLE
    lo, hi = STALE_AGE_S
    confirm_age = np.where(
        stale,
        lo + _draw(seed, index, _S_CONFIRM, hi - lo + 1),
        _draw(seed, index, _S_CONFIRM, MAX_FRESH_AGE_S + 1),
    )
    # In force since 0-10 days before the load, and never after its last confirmation.
    effective_age = np.maximum(_draw(seed, index, _S_EFFECTIVE, MAX_EFFECTIVE_AGE_S + 1), confirm_age)
    pump = np.array(base_list, dtype=np.int64) - cut[station]
    with_platform = has_platform[station]
    p_station, p_grade = station[with_platform], grade[with_platform]
    platform_fen = pump[with_platform] - drop[p_station]
    # Rows ordered by station, grade, then pump before platform.
    all_station = np.concatenate((station, p_station))
    all_grade = np.concatenate((grade, p_grade))
    is_platform = np.concatenate(
        (np.zeros(len(station), dtype=np.bool_), np.ones(len(p_station), dtype=np.bool_))
    )
    order = np.lexsort((is_platform, all_grade, all_station))
    return StationPrices(
        station=all_station[order],
        grade=all_grade[order],
        platform=is_platform[order],
        price_fen=np.concatenate((pump, platform_fen))[order],
        effective_from=_stamps(loaded_at, effective_age),
        confirmed_at=_stamps(loaded_at, confirm_age),
        stale=stale,
    )
