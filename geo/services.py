"""Station services, as codes. Unknown labels are rejected at ingest, not stored."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from geo.errors import UnknownService

SERVICES: dict[str, str] = {
    "convenience_store": "便利店",
    "car_wash": "洗车",
    "toilet": "卫生间",
    "ev_charging": "充电桩",
    "e_invoice": "电子发票",
    "atm": "ATM",
    "restaurant": "餐饮",
    "air_pump": "充气",
    "truck_lane": "货车通道",
    "wifi": "WiFi",
    "repair": "汽修",
    "adblue": "车用尿素",
    "lpg": "液化气",
    "pay_at_pump": "自助付款",
    "hotel": "住宿",
}

SERVICE_BITS: dict[str, int] = {code: bit for bit, code in enumerate(SERVICES)}
_BY_NAME: dict[str, str] = {
    **{code: code for code in SERVICES},
    **{name.casefold(): code for code, name in SERVICES.items()},
}


def service_mask(services: Iterable[str]) -> int:
    """The bit set of these service codes (codes outside SERVICES are ignored)."""
    mask = 0
    for code in services:
        bit = SERVICE_BITS.get(code)
        if bit is not None:
            mask |= 1 << bit
    return mask


def resolve_services(value: str) -> tuple[str, ...]:
    """Service codes of a search parameter: codes or Chinese names (`services=car_wash,便利店`),
    comma-separated, in the order given without repeats; every unknown name at once (UnknownService)."""
    codes: list[str] = []
    unknown: list[str] = []
    for part in re.split(r"[,，、]", value):
        name = unicodedata.normalize("NFKC", part).strip()
        if not name:
            continue
        code = _BY_NAME.get(name.casefold())
        if code is None:
            unknown.append(name)
        elif code not in codes:
            codes.append(code)
    if unknown or not codes:
        raise UnknownService(unknown or [value])
    return tuple(codes)
