"""China, official provincial maximum retail prices (../shared/data/cn-official-fuel-prices-20260421).

<date>.json gives zones and prices per province; regions/regions.json (beside it) maps region strings to
zones. Guide prices take effect at the file's effective_from (2026-04-22 00:00 Asia/Shanghai), are
confirmed at its updated_at, and carry the province's notice URL. "Line" in the rejects = the item's
position (province.zone for prices, 1-based index for regions). Products not published (missing_products)
and regions mapped to a zone their province does not have (regions.json maps 海南 to yunnan-1) are
rejected with the reason; repeated region strings keep the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from ingest.items import Reject, SourceError
from ingest.prices.items import GuidePrice, PriceItem, RegionDef, ZoneDef
from pricing.ladder import GuideUpdate

SOURCE = "cn-official"


def _load(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected an object")
    return data


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def read(path: Path, engine: Engine) -> Iterator[PriceItem]:
    del engine
    if path.is_dir():
        files = sorted(p for p in path.glob("????-??-??.json"))
        if not files:
            raise SourceError(f"{path}: no <date>.json price file")
        path = files[-1]
    data = _load(path)
    provinces = data.get("provinces")
    if not isinstance(provinces, list) or "effective_from" not in data:
        raise SourceError(f"{path}: expected 'provinces' and 'effective_from'")
    effective = datetime.fromisoformat(str(data["effective_from"]))
    confirmed = datetime.fromisoformat(str(data.get("updated_at") or data["effective_from"]))
    currency = str(data.get("currency", "CNY"))
    products = data.get("products")
    if not isinstance(products, list):
        raise SourceError(f"{path}: expected 'products'")
    zones_of: dict[str, set[str]] = {}
    guides: list[PriceItem] = []
    for p_index, province in enumerate(provinces, 1):
        code, name = province["province_code"], province["province_name"]
        url = (province.get("sources") or [{}])[0].get("url")
        zones_of[code] = set()
        for z_index, zone in enumerate(province["zones"], 1):
            line = p_index * 100 + z_index
            zones_of[code].add(zone["zone_code"])
            yield ZoneDef(line, _dump(zone), (code, zone["zone_code"], name, zone["zone_name"], url))
            for product in products:
                price = zone["items"].get(product)
                raw = _dump({"province": name, "zone": zone["zone_code"], "product": product, "price": price})
                if price is None:
                    guides.append(
                        Reject(line, f"{product}# not published for {name} {zone['zone_code']}", raw)
                    )
                    continue
                update = GuideUpdate(
                    code,
                    zone["zone_code"],
                    str(product),
                    Decimal(str(price)),
                    effective,
                    SOURCE,
                    confirmed,
                    url,
                    currency,
                )
                guides.append(GuidePrice(line, raw, update))
    yield from _regions(path.parent / "regions" / "regions.json", zones_of)
    yield from guides


def _regions(path: Path, zones_of: dict[str, set[str]]) -> Iterator[PriceItem]:
    if not path.is_file():
        raise SourceError(f"{path}: missing (the region -> zone mapping lies beside the price file)")
    items = _load(path).get("items")
    if not isinstance(items, list):
        raise SourceError(f"{path}: expected 'items'")
    first: dict[str, int] = {}
    for index, item in enumerate(items, 1):
        raw = _dump(item)
        region, code, zone = item.get("region"), item.get("province_code"), item.get("zone_code")
        if region in first:
            yield Reject(index, f"duplicate region {region!r} (first at item {first[region]})", raw)
        elif zone not in zones_of.get(code, set()):
            yield Reject(index, f"zone {zone!r} is not a zone of province {code} in the price file", raw)
        else:
            first[region] = index
            yield RegionDef(index, raw, (region, code, zone, item.get("locality")))
