"""Brands: a short code per brand ('sinopec', 'petrochina' ...), display names, and recognition from names."""

from __future__ import annotations

import re

BRANDS: dict[str, str] = {
    "sinopec": "中国石化",
    "petrochina": "中国石油",
    "cnooc": "中国海油",
    "sinochem": "中化石油",
    "shell": "壳牌",
    "total": "道达尔",
    "bp": "BP",
    "exxonmobil": "埃克森美孚",
    "yanchang": "延长壳牌",
    "private": "民营",
}

# Order matters: the first pattern found in a station name wins.
_NAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("yanchang", re.compile(r"延长")),
    ("sinopec", re.compile(r"中国石化|中石化|石化|sinopec", re.I)),
    ("petrochina", re.compile(r"中国石油|中石油|petrochina", re.I)),
    ("cnooc", re.compile(r"中国海油|中海油|海油|cnooc", re.I)),
    ("sinochem", re.compile(r"中化|sinochem", re.I)),
    ("shell", re.compile(r"壳牌|shell", re.I)),
    ("total", re.compile(r"道达尔|total", re.I)),
    ("bp", re.compile(r"\bBP\b|英国石油")),
    ("exxonmobil", re.compile(r"埃索|美孚|esso|mobil", re.I)),
)

_SLUG = re.compile(r"[^a-z0-9]+")


def brand_from_name(name: str) -> str:
    """Brand code recognised in a Chinese station name; 'private' (民营) when none is."""
    for code, pattern in _NAME_PATTERNS:
        if pattern.search(name):
            return code
    return "private"


def brand_code(value: str) -> str:
    """Code for a brand given as a code, a Chinese name or a foreign label ('Agip Eni' -> 'agip-eni')."""
    text = value.strip()
    if text.lower() in BRANDS:
        return text.lower()
    for code, display in BRANDS.items():
        if text == display:
            return code
    slug = _SLUG.sub("-", text.lower()).strip("-")
    return slug or "private"


def brand_name(code: str) -> str:
    return BRANDS.get(code, code)
