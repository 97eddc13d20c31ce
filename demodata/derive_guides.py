"""Derive the demo network's official guide prices (国标, 最高零售价) from the 2026-04-21 provincial table.

    python -m demodata.derive_guides ../shared/data/cn-official-fuel-prices-20260421

writes demodata/guide_prices/2026-04-21.json and demodata/guide_prices/regions/regions.json, in the layout the
cn-official price ingest reads (ingest/prices/cn_official.py), so `stations-demo load` loads them through
that ingest and every demo station gets its zone's guide rung. Derived, not copied: of the price file only
what the ingest reads (dates, products, and per province its code, name, notice URL and zones with their
prices); of the 3,093 region mappings only those the demo network's stations can match (each province
itself, and in provinces with several zones the city entries whose locality is a demo city's name,
demodata/cities.py). The values are the official ones, unchanged. Re-run it when the table changes; the
output is deterministic (sorted, fixed formatting)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from demodata.cities import CITIES

OUT = Path(__file__).resolve().parent / "guide_prices"
DATE = "2026-04-21"


def _price_file(source: dict[str, Any]) -> dict[str, Any]:
    keep = ("adjustment_date", "effective_from", "timezone", "unit", "currency", "products", "updated_at")
    return {
        **{k: source[k] for k in keep if k in source},
        "provinces": [
            {
                "province_code": p["province_code"],
                "province_name": p["province_name"],
                "sources": [{"url": s["url"]} for s in p.get("sources", [])[:1]],
                "zones": [
                    {
                        "zone_code": z["zone_code"],
                        "zone_name": z["zone_name"],
                        "items": z["items"],
                        "missing_products": z.get("missing_products", []),
                    }
                    for z in p["zones"]
                ],
            }
            for p in source["provinces"]
        ],
    }


def _regions(source: dict[str, Any], prices: dict[str, Any]) -> dict[str, Any]:
    several = {p["province_code"] for p in prices["provinces"] if len(p["zones"]) > 1}
    cities = {(c.adcode[:2] + "0000", name) for c in CITIES for name in (c.name, c.full_name)}
    kept = [
        item
        for item in source["items"]
        if not item.get("locality")
        or (item["province_code"] in several and (item["province_code"], item["locality"]) in cities)
    ]
    first: dict[str, dict[str, Any]] = {}
    for item in kept:  # a repeated region string: the first, as the ingest keeps it
        first.setdefault(item["region"], item)
    return {"items": sorted(first.values(), key=lambda i: (i["province_code"], i["region"]))}


def derive(table: Path, out: Path = OUT) -> tuple[int, int]:
    """Write the derived files; (provinces, region mappings) written."""
    prices = _price_file(json.loads((table / f"{DATE}.json").read_text(encoding="utf-8")))
    regions = _regions(json.loads((table / "regions" / "regions.json").read_text(encoding="utf-8")), prices)
    (out / "regions").mkdir(parents=True, exist_ok=True)
    for path, data in ((out / f"{DATE}.json", prices), (out / "regions" / "regions.json", regions)):
        path.write_text(
            json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    return len(prices["provinces"]), len(regions["items"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(
            "usage: python -m demodata.derive_guides <cn-official-fuel-prices-20260421 folder>",
            file=sys.stderr,
        )
        return 2
    provinces, regions = derive(Path(argv[0]))
    print(f"wrote {OUT}: {provinces} provinces, {regions} region mappings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
