"""Brands: a short code per brand ('sinopec', 'petrochina' ...), the names drivers type for each (full and
common Chinese names, abbreviations, English names), display names, and recognition from station names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from geo.errors import UnknownBrand


@dataclass(frozen=True)
class Brand:
    code: str
    full_name: str  # the display name (zh)
    short_names: tuple[str, ...] = ()  # other Chinese names and abbreviations drivers use
    english: tuple[str, ...] = ()


# The alias table: every name here resolves to its code (case, width and spaces do not matter).
# 延长壳牌 is the Yanchang-Shell joint venture: 延长 finds it, 壳牌 alone is Shell's own stations.
BRAND_TABLE: tuple[Brand, ...] = (
    Brand("sinopec", "中国石化", ("中石化", "石化", "中国石油化工"), ("Sinopec",)),
    Brand("petrochina", "中国石油", ("中石油", "中油", "中国石油天然气"), ("PetroChina", "CNPC")),
    Brand("cnooc", "中国海油", ("中海油", "海油", "中国海洋石油"), ("CNOOC",)),
    Brand("sinochem", "中化石油", ("中化", "中国中化"), ("Sinochem",)),
    Brand("shell", "壳牌", ("壳牌石油",), ("Shell",)),
    Brand("total", "道达尔", ("道达尔能源",), ("Total", "TotalEnergies")),
    Brand("bp", "BP", ("英国石油",), ()),
    Brand("exxonmobil", "埃克森美孚", ("美孚", "埃索"), ("ExxonMobil", "Mobil", "Esso")),
    Brand("yanchang", "延长壳牌", ("延长", "延长石油"), ("Yanchang", "Yanchang Shell")),
    Brand("private", "民营", ("民营加油站", "社会加油站"), ("Private", "Independent")),
)
BRANDS: dict[str, str] = {b.code: b.full_name for b in BRAND_TABLE}

# Several brands in one parameter: `brand=中石化,shell` (ASCII or full-width comma, or 、).
BRAND_SEPARATORS = re.compile(r"[,，、]")


def _key(text: str) -> str:
    """Width, case and spacing folded: 'Ｓｈｅｌｌ' and ' shell ' and 'Yanchang-Shell' read alike."""
    return re.sub(r"[\s\-_·.]+", "", unicodedata.normalize("NFKC", text).casefold())


_ALIASES: dict[str, str] = {
    _key(name): b.code for b in BRAND_TABLE for name in (b.code, b.full_name, *b.short_names, *b.english)
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


def _slug(text: str) -> str:
    return _SLUG.sub("-", unicodedata.normalize("NFKC", text).lower()).strip("-")


def alias_code(value: str) -> str | None:
    """The code of a brand name from the alias table, or None."""
    return _ALIASES.get(_key(value))


def brand_code(value: str) -> str:
    """Code for a brand given by a feed: a name of the alias table, else a slug of a foreign label ('Agip
    Eni' -> 'agip-eni'); a label with nothing to slug (an unknown Chinese name) is 'private'."""
    return alias_code(value) or _slug(value) or "private"


def resolve_brands(value: str, catalogue: Collection[str] = ()) -> tuple[str, ...]:
    """The brand codes of a search parameter: names of the alias table, or codes the catalogue holds
    (`catalogue`, e.g. 'agip-eni' from a feed), comma-separated; in the order given, without repeats.
    Every name that is neither is reported at once (UnknownBrand), never read as 'private'."""
    codes: list[str] = []
    unknown: list[str] = []
    for part in BRAND_SEPARATORS.split(value):
        name = part.strip()
        if not name:
            continue
        code = alias_code(name)
        if code is None and _slug(name) in catalogue:
            code = _slug(name)
        if code is None:
            unknown.append(name)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise UnknownBrand(unknown)
    if not codes:
        raise UnknownBrand([value])
    return tuple(codes)


def brand_name(code: str) -> str:
    return BRANDS.get(code, code)
