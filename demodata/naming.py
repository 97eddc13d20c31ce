"""Word lists for synthetic station names and addresses (plausible, invented, not real stations)."""

from __future__ import annotations

# Parts of a city where a branded station is named after ("中国石化昆明城东第12加油站").
AREAS: tuple[str, ...] = (
    "城东", "城西", "城南", "城北", "中心", "新区", "开发区", "高新", "经开", "滨江",
    "湖滨", "站前", "机场", "港口", "工业园", "环城", "南环", "北环", "东环", "西环",
    "大学城", "新城", "老城", "河西", "河东", "桥头", "西郊", "东郊", "南郊", "北郊",
)

# Private (民营) station names: prefix + suffix ("宏达能源加油站").
PRIVATE_PREFIXES: tuple[str, ...] = (
    "宏达", "鑫源", "恒通", "金泰", "顺发", "永兴", "华通", "利民", "通达", "兴旺",
    "长城", "瑞丰", "东方", "金盛", "万通", "鸿运", "隆盛", "富民", "天润", "盛源",
    "安泰", "祥和", "众诚", "泰和", "昌盛", "新华", "汇通", "佳和", "正大", "合力",
    "金鑫", "福满", "康达", "宏远", "红星", "广源", "国泰", "路通", "聚源", "丰华",
)
PRIVATE_SUFFIXES: tuple[str, ...] = ("能源加油站", "石油加油站", "加油站", "石化加油站", "油料加油站", "加油加气站")

ROADS: tuple[str, ...] = (
    "人民路", "解放路", "中山路", "建设路", "北京路", "新华路", "胜利路", "文化路", "和平路", "长江路",
    "黄河路", "迎宾大道", "工业大道", "环城北路", "环城南路", "环城东路", "环城西路", "滨江路", "青年路", "友谊路",
    "光明路", "民主路", "朝阳路", "东风路", "学府路", "科技路", "世纪大道", "金融街", "站前路", "机场路",
    "南湖路", "东湖路", "幸福路", "团结路", "振兴路", "兴业路", "开发大道", "高新大道", "创业路", "经济路",
)


def highway_name(a: str, b: str) -> str:
    """A name for the straight road between two cities, after the first character of each ('昆曲高速')."""
    return f"{a[0]}{b[0]}高速"
