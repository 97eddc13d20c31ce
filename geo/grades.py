"""Fuel grades. Codes are short strings: '92' for 92#, '0' for 0# diesel, 'E92', 'CNG' ...

Accepts the spellings drivers and feeds use ('92#', '95号', '0#柴油', 'e92') and returns one code.
"""

from __future__ import annotations

import re

from geo.errors import UnknownGrade

GRADES: dict[str, str] = {
    "89": "89# 汽油",
    "92": "92# 汽油",
    "95": "95# 汽油",
    "98": "98# 汽油",
    "101": "101# 汽油",
    "0": "0# 柴油",
    "-10": "-10# 柴油",
    "-20": "-20# 柴油",
    "-35": "-35# 柴油",
    "E92": "E92 乙醇汽油",
    "E95": "E95 乙醇汽油",
    "E98": "E98 乙醇汽油",
    "E10": "E10 (SP95-E10)",
    "E85": "E85 superethanol",
    "B7": "B7 diesel (EN 590)",
    "CNG": "CNG 压缩天然气",
    "LNG": "LNG 液化天然气",
    "LPG": "LPG 液化石油气",
    "ADBLUE": "AdBlue 车用尿素",
}

# Bit positions for the in-memory index (stable: append only).
GRADE_BITS: dict[str, int] = {code: i for i, code in enumerate(GRADES)}

_STRIP = re.compile(r"[#＃号\s]|汽油|柴油|乙醇")


def normalize_grade(value: str) -> str:
    raw = value.strip()
    code = _STRIP.sub("", raw).upper()
    if code in GRADES:
        return code
    raise UnknownGrade(f"unknown fuel grade {value!r}; known grades: {', '.join(GRADES)}")


def grade_mask(codes: list[str] | tuple[str, ...]) -> int:
    mask = 0
    for code in codes:
        mask |= 1 << GRADE_BITS[code]
    return mask


def grade_order(code: str) -> tuple[int, str]:
    """Sort key: the order of GRADES (92 before 95 before 0#), unknown codes last."""
    return (GRADE_BITS.get(code, len(GRADE_BITS)), code)
