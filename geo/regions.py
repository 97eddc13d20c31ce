"""Administrative regions as drivers type them: an adcode (530100), a full name (昆明市, 云南省) or a short
name (昆明, 云南), resolved against the places the catalogue holds.

A place is one distinct (province, city, county, adcode) of the catalogue's stations; the book gives each a
small code, so a station carries one int and a region is a set of place codes. A region no station lies in
is unknown: the catalogue is the gazetteer (it is what every answer is computed over)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from geo.errors import UnknownRegion

Level = Literal["province", "city", "county"]
LEVELS: tuple[Level, ...] = ("province", "city", "county")

# Ethnic names in autonomous regions, prefectures and counties (广西壮族自治区, 大理白族自治州 ...).
_ETHNIC = [
    "蒙古",
    "朝鲜",
    "土家",
    "苗",
    "藏",
    "羌",
    "彝",
    "白",
    "傣",
    "哈尼",
    "壮",
    "布依",
    "侗",
    "傈僳",
    "景颇",
    "哈萨克",
    "柯尔克孜",
    "回",
    "维吾尔",
    "黎",
    "瑶",
    "纳西",
    "怒",
    "独龙",
    "普米",
    "拉祜",
    "佤",
    "布朗",
    "德昂",
    "阿昌",
    "基诺",
    "水",
    "仡佬",
    "畲",
    "满",
    "锡伯",
    "达斡尔",
    "鄂温克",
    "鄂伦春",
    "撒拉",
    "土",
    "保安",
    "东乡",
    "裕固",
    "塔吉克",
    "乌孜别克",
    "俄罗斯",
    "塔塔尔",
    "门巴",
    "珞巴",
    "赫哲",
    "京",
    "仫佬",
    "毛南",
    "各",
]
_AUTONOMOUS = re.compile(r"(?:自治区|自治州|自治县|自治旗)$")
_ETHNIC_TAIL = re.compile("(?:" + "|".join(sorted(_ETHNIC, key=len, reverse=True)) + ")族?$")
_PLAIN_SUFFIX = re.compile(r"(?:特别行政区|地区|林区|新区|省|市|盟|县|区|旗)$")


def short_name(full: str) -> str:
    """昆明市 -> 昆明, 云南省 -> 云南, 广西壮族自治区 -> 广西, 延边朝鲜族自治州 -> 延边, 兴安盟 -> 兴安; at
    least two characters are kept (内蒙古自治区 -> 内蒙古, not 内)."""
    name = full.strip()
    stripped = _AUTONOMOUS.sub("", name)
    if stripped != name:
        while len(stripped) > 2:
            shorter = _ETHNIC_TAIL.sub("", stripped)
            if shorter == stripped or len(shorter) < 2:
                break
            stripped = shorter
        return stripped if len(stripped) >= 2 else name
    shorter = _PLAIN_SUFFIX.sub("", name)
    return shorter if len(shorter) >= 2 else name


def _key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class Place(NamedTuple):
    province: str | None
    city: str | None
    county: str | None
    adcode: str | None

    def name_at(self, level: Level) -> str | None:
        return self.province if level == "province" else self.city if level == "city" else self.county


@dataclass(frozen=True)
class Region:
    level: Level
    name: str  # the full name at that level (云南省, 昆明市), or the adcode when the catalogue names none
    province: str | None
    places: frozenset[int]  # place codes of the book


_ADCODE = re.compile(r"^[0-9]{6}$")


@dataclass
class RegionBook:
    places: list[Place] = field(default_factory=list)
    _codes: dict[Place, int] = field(default_factory=dict)
    _memo: dict[tuple[str, tuple[Level, ...]], Region] = field(default_factory=dict)

    def code(self, province: str | None, city: str | None, county: str | None, adcode: str | None) -> int:
        place = Place(province or None, city or None, county or None, adcode or None)
        found = self._codes.get(place)
        if found is None:
            found = self._codes[place] = len(self.places)
            self.places.append(place)
            self._memo.clear()
        return found

    def resolve(self, text: str, levels: tuple[Level, ...] = LEVELS) -> Region:
        """The region `text` names at one of `levels` (tried in that order, a full name before a short one
        at each level: 吉林 is the province, 吉林市 the city); UnknownRegion when no place matches."""
        memo = self._memo.get((text, levels))
        if memo is None:
            if len(self._memo) >= 4096:
                self._memo.clear()
            memo = self._memo[(text, levels)] = self._resolve(text, levels)
        return memo

    def _resolve(self, text: str, levels: tuple[Level, ...]) -> Region:
        value = _key(text)
        if _ADCODE.match(value):
            return self._by_adcode(text, value, levels)
        for level in levels:
            for shorten in (False, True):
                hits = [
                    i
                    for i, p in enumerate(self.places)
                    if (name := p.name_at(level)) and (short_name(name) if shorten else _key(name)) == value
                ]
                if hits:
                    first = self.places[hits[0]]
                    return Region(level, first.name_at(level) or value, first.province, frozenset(hits))
        raise UnknownRegion([text])

    def _by_adcode(self, text: str, value: str, levels: tuple[Level, ...]) -> Region:
        level: Level = "province" if value.endswith("0000") else "city" if value.endswith("00") else "county"
        prefix = value[:2] if level == "province" else value[:4] if level == "city" else value
        hits = [i for i, p in enumerate(self.places) if p.adcode and p.adcode.startswith(prefix)]
        if level not in levels or not hits:
            raise UnknownRegion([text])
        names = [n for i in hits if (n := self.places[i].name_at(level))]
        return Region(level, names[0] if names else value, self.places[hits[0]].province, frozenset(hits))
