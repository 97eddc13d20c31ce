"""The names drivers type, resolved without a database: the brand alias table, service names, and the
short names and adcodes of regions (checked against every city of the demo gazetteer)."""

from __future__ import annotations

import pytest

from demodata.cities import CITIES
from geo.brands import BRAND_TABLE, brand_code, resolve_brands
from geo.errors import UnknownBrand, UnknownRegion, UnknownService
from geo.regions import Level, RegionBook, short_name
from geo.services import SERVICES, resolve_services


def test_every_name_of_the_alias_table_resolves_to_its_brand() -> None:
    for brand in BRAND_TABLE:
        for name in (brand.code, brand.full_name, *brand.short_names, *brand.english):
            assert resolve_brands(name) == (brand.code,), name
            assert resolve_brands(name.upper()) == (brand.code,), name
            assert brand_code(name) == brand.code, name


def test_no_name_is_shared_by_two_brands() -> None:
    seen: dict[str, str] = {}
    for brand in BRAND_TABLE:
        for name in (brand.code, brand.full_name, *brand.short_names, *brand.english):
            key = name.casefold().replace(" ", "")
            assert seen.setdefault(key, brand.code) == brand.code, name


def test_several_brands_keep_their_order_and_every_unknown_is_named() -> None:
    assert resolve_brands("壳牌,中石化，中石油、shell") == ("shell", "sinopec", "petrochina")
    assert resolve_brands("agip-eni", catalogue=("agip-eni", "sinopec")) == ("agip-eni",)
    with pytest.raises(UnknownBrand) as caught:
        resolve_brands("中石华,shell,agip-eni")
    assert caught.value.names == ["中石华", "agip-eni"]  # not in this catalogue
    with pytest.raises(UnknownBrand):
        resolve_brands(" , ")
    assert brand_code("Agip Eni") == "agip-eni" and brand_code("某某能源") == "private"  # feeds, as before


def test_services_by_code_or_chinese_name() -> None:
    assert resolve_services("洗车,convenience_store，洗车") == ("car_wash", "convenience_store")
    assert resolve_services("wifi") == resolve_services("ＷｉＦｉ") == ("wifi",)
    assert {resolve_services(name)[0] for name in SERVICES.values()} == set(SERVICES)
    with pytest.raises(UnknownService) as caught:
        resolve_services("洗车,按摩,teleport")
    assert caught.value.names == ["按摩", "teleport"]


def test_short_names_of_every_demo_city_and_province() -> None:
    assert [c.name for c in CITIES if short_name(c.full_name) != c.name] == []
    provinces = {
        "云南省": "云南",
        "内蒙古自治区": "内蒙古",
        "广西壮族自治区": "广西",
        "宁夏回族自治区": "宁夏",
        "新疆维吾尔自治区": "新疆",
        "西藏自治区": "西藏",
        "北京市": "北京",
        "香港特别行政区": "香港",
        "黑龙江省": "黑龙江",
    }
    assert {full: short_name(full) for full in provinces} == provinces
    others = {
        "大理白族自治州": "大理",
        "五华区": "五华",
        "石林彝族自治县": "石林",
        "大兴安岭地区": "大兴安岭",
    }
    assert {full: short_name(full) for full in others} == others


def _book() -> RegionBook:
    book = RegionBook()
    book.code("吉林省", "长春市", None, "220100")
    book.code("吉林省", "吉林市", None, "220200")
    book.code("云南省", "昆明市", "五华区", "530102")
    book.code("云南省", "昆明市", None, "530100")
    book.code("北京市", "北京市", None, "110100")
    return book


def test_regions_resolve_by_adcode_full_and_short_name() -> None:
    book = _book()
    kunming = frozenset(
        (book.code("云南省", "昆明市", "五华区", "530102"), book.code("云南省", "昆明市", None, "530100"))
    )
    for typed in ("昆明", "昆明市", "530100", " 昆明 "):
        found = book.resolve(typed)
        assert (found.level, found.name, found.places) == ("city", "昆明市", kunming), typed
    for typed in ("云南", "云南省", "530000"):
        assert (book.resolve(typed).level, book.resolve(typed).name) == ("province", "云南省")
    assert book.resolve("五华").level == "county" and len(book.resolve("530102").places) == 1
    # a province before a city of the same short name; the full name or the level says which
    assert book.resolve("吉林").level == "province" and len(book.resolve("吉林").places) == 2
    assert book.resolve("吉林市").name == "吉林市" and book.resolve("吉林", ("city",)).name == "吉林市"
    assert book.resolve("北京").level == "province" and book.resolve("北京", ("city",)).name == "北京市"


@pytest.mark.parametrize(("typed", "levels"), [("上海", None), ("530000", ("city",)), ("999999", None)])
def test_unknown_regions(typed: str, levels: tuple[Level, ...] | None) -> None:
    book = _book()
    with pytest.raises(UnknownRegion) as caught:
        book.resolve(typed) if levels is None else book.resolve(typed, levels)
    assert caught.value.names == [typed]


def test_a_new_place_is_found_after_a_failed_lookup() -> None:
    book = _book()
    with pytest.raises(UnknownRegion):
        book.resolve("太原")
    book.code("山西省", "太原市", None, "140100")
    assert book.resolve("太原").name == "太原市"
