"""Vectorised draws of what a synthetic station is: brand, status, hours, services, positions and nozzles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from demodata.cities import COLDEST_PROVINCES, ETHANOL_PROVINCES, NORTHERN_PROVINCES, YANCHANG_PROVINCE
from geo.hours import DAYS, OpeningHours, daily
from geo.services import SERVICES

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# National brand shares (sum 1). Yanchang only exists in Shaanxi, where it takes YANCHANG_SHARE.
BRAND_SHARES: tuple[tuple[str, float], ...] = (
    ("sinopec", 0.30),
    ("petrochina", 0.22),
    ("cnooc", 0.03),
    ("shell", 0.02),
    ("total", 0.01),
    ("bp", 0.01),
    ("sinochem", 0.01),
    ("private", 0.40),
)
BRAND_CODES: tuple[str, ...] = (*(code for code, _ in BRAND_SHARES), "yanchang")
YANCHANG = len(BRAND_CODES) - 1
YANCHANG_SHARE = 0.35
_FOREIGN = np.array([code in ("shell", "total", "bp") for code in BRAND_CODES])
_MAJOR = np.array([code in ("sinopec", "petrochina", "cnooc", "sinochem") for code in BRAND_CODES])

STATUSES = ("open", "temporarily_closed", "closed")
STATUS_SHARES = (0.97, 0.02, 0.01)

ALWAYS_OPEN_SHARE = 0.85
_WEEKDAYS, _WEEKEND = DAYS[:5], DAYS[5:]
HOURS_VARIANTS: tuple[OpeningHours, ...] = (
    OpeningHours(always_open=True),
    daily("06:00", "22:00"),
    daily("07:00", "21:00"),
    daily("06:30", "23:00"),
    daily("05:30", "22:30"),
    daily("07:00", "19:00"),
    daily("05:00", "01:00"),  # runs past midnight
    OpeningHours.from_json(
        {
            "weekly": {
                **{d: [["06:00", "22:00"]] for d in _WEEKDAYS},
                **{d: [["07:00", "21:00"]] for d in _WEEKEND},
            }
        }
    ),
    OpeningHours.from_json({"weekly": {d: [["07:00", "20:00"]] for d in DAYS[:6]}}),  # closed on Sunday
    OpeningHours.from_json(
        {
            "weekly": {
                **{d: [["06:00", "12:00"], ["13:00", "22:00"]] for d in _WEEKDAYS},
                "sat": [["08:00", "18:00"]],
            }
        }
    ),
)

# Grade codes (geo.grades) and the relative share of nozzles a grade gets when a station sells it.
GRADE_CODES: tuple[str, ...] = ("92", "95", "98", "0", "-10", "-20", "E92", "E95", "CNG", "LNG")
_NOZZLE_WEIGHT = np.array([4.0, 3.0, 1.0, 2.5, 1.0, 0.6, 4.0, 3.0, 1.0, 1.0])

SERVICE_CODES: tuple[str, ...] = tuple(SERVICES)
# Probability of each service at (city, highway) stations, in SERVICE_CODES order.
_SERVICE_P = {
    "convenience_store": (0.70, 0.90),
    "car_wash": (0.30, 0.15),
    "toilet": (0.85, 0.98),
    "ev_charging": (0.15, 0.35),
    "e_invoice": (0.60, 0.70),
    "atm": (0.08, 0.05),
    "restaurant": (0.08, 0.60),
    "air_pump": (0.40, 0.50),
    "truck_lane": (0.15, 0.75),
    "wifi": (0.30, 0.40),
    "repair": (0.08, 0.25),
    "adblue": (0.20, 0.60),
    "lpg": (0.03, 0.02),
    "pay_at_pump": (0.20, 0.15),
    "hotel": (0.02, 0.15),
}
_SERVICE_P_ARR = np.array([_SERVICE_P[code] for code in SERVICE_CODES], dtype=np.float64)


@dataclass(frozen=True)
class Equipment:
    brand: IntArray  # index into BRAND_CODES
    status: IntArray  # index into STATUSES
    hours: IntArray  # index into HOURS_VARIANTS
    services: IntArray  # bit i set = SERVICE_CODES[i] offered
    positions: IntArray  # fueling positions per station
    nozzle_offsets: (
        IntArray  # station s's positions' nozzle counts are nozzle_counts[offsets[s]:offsets[s+1]]
    )
    nozzle_counts: IntArray  # nozzles per position, all positions in station order
    grades: IntArray  # index into GRADE_CODES for every nozzle, in position order


def _province_flags(provinces: list[str], members: frozenset[str]) -> BoolArray:
    return np.array([p in members for p in provinces], dtype=bool)


def draw_equipment(rng: np.random.Generator, provinces: list[str], highway: BoolArray) -> Equipment:
    """One station per entry of `provinces` (its province name) and `highway` (on a highway)."""
    n = len(provinces)
    brand = rng.choice(len(BRAND_SHARES), size=n, p=[share for _, share in BRAND_SHARES]).astype(np.int64)
    shaanxi = _province_flags(provinces, frozenset({YANCHANG_PROVINCE}))
    brand[shaanxi & (rng.random(n) < YANCHANG_SHARE)] = YANCHANG
    status = rng.choice(len(STATUSES), size=n, p=STATUS_SHARES).astype(np.int64)
    limited = rng.random(n) >= ALWAYS_OPEN_SHARE
    hours = np.where(limited, rng.integers(1, len(HOURS_VARIANTS), size=n), 0).astype(np.int64)

    p = _SERVICE_P_ARR[:, highway.astype(np.int64)].T  # (n, services)
    offered = rng.random(p.shape) < p
    services = offered.astype(np.int64) @ (1 << np.arange(len(SERVICE_CODES), dtype=np.int64))

    positions = 2 + rng.binomial(10, 0.3, size=n) + 2 * highway
    positions = np.minimum(positions, 12).astype(np.int64)
    nozzle_counts = (2 + rng.binomial(2, 0.5, size=int(positions.sum()))).astype(np.int64)
    pos_offsets = np.concatenate(([0], np.cumsum(positions)))
    per_station_nozzles = np.add.reduceat(nozzle_counts, pos_offsets[:-1]) if n else np.zeros(0, np.int64)

    ethanol = _province_flags(provinces, ETHANOL_PROVINCES)
    north = _province_flags(provinces, NORTHERN_PROVINCES)
    coldest = _province_flags(provinces, COLDEST_PROVINCES)
    u = rng.random((n, 6))
    menu = np.zeros((n, len(GRADE_CODES)), dtype=bool)
    menu[:, 0] = menu[:, 1] = ~ethanol
    menu[:, 6] = menu[:, 7] = ethanol
    menu[:, 2] = u[:, 0] < np.where(_FOREIGN[brand] | _MAJOR[brand], 0.35, 0.15)
    menu[:, 3] = highway | (u[:, 1] < 0.88)
    menu[:, 4] = north & (u[:, 2] < 0.40)
    menu[:, 5] = coldest & (u[:, 3] < 0.25)
    menu[:, 8] = u[:, 4] < 0.04
    menu[:, 9] = u[:, 5] < np.where(highway, 0.10, 0.02)
    weights = menu * _NOZZLE_WEIGHT
    station_of_nozzle = np.repeat(np.arange(n), per_station_nozzles)
    cum = np.cumsum(weights[station_of_nozzle], axis=1)
    pick = rng.random(station_of_nozzle.size) * cum[:, -1]
    grades = (cum <= pick[:, None]).sum(axis=1).astype(np.int64)
    return Equipment(
        brand=brand,
        status=status,
        hours=hours,
        services=services.astype(np.int64),
        positions=positions,
        nozzle_offsets=pos_offsets.astype(np.int64),
        nozzle_counts=nozzle_counts,
        grades=grades,
    )
