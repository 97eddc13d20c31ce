"""Optional columns of a station list. Each computes its values for the listed stations, in list order,
as the JSON members (`,"name":value`) it adds to each item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import orjson

from pricing.breakdown import Breakdown
from pricing.compare import PRICE_COLUMNS, Ranked
from pricing.pricebook import CURRENCIES, NO_PRICE, PriceBook, fen_text, price_text
from pricing.validation import DEFAULT_RULES

Members = list[bytes]  # one per listed station


def price_members(book: PriceBook, positions: np.ndarray, now: datetime) -> Members:
    """`,"prices":{"92":{"currency":"CNY","pump":"7.89","platform":"7.59","stale":false},...}`: every grade
    the station has a price for."""
    fresh_since = now.timestamp() - DEFAULT_RULES.stale_after.total_seconds()
    per_item: list[dict[str, dict[str, object]]] = [{} for _ in range(len(positions))]
    for grade, prices in book.grades.items():
        pump = prices.pump[positions]
        for i in np.flatnonzero(pump != NO_PRICE).tolist():
            pos = int(positions[i])
            ccy = int(prices.currency[pos])
            platform = int(prices.platform[pos])
            per_item[i][grade] = {
                "currency": CURRENCIES[ccy],
                "pump": price_text(int(pump[i]), ccy),
                "platform": price_text(platform, ccy) if platform != NO_PRICE else None,
                "stale": bool(prices.confirmed[pos] < fresh_since),
            }
    return [b',"prices":' + orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in per_item]


def effective_members(ranked: Ranked | None, positions: np.ndarray) -> Members:
    """`,"effective":{currency, litres, payable, effective_price_per_litre}` from a ranking of (at least)
    these stations; null for a station the ranking left out (no fresh price)."""
    found: dict[int, bytes] = {}
    if ranked is not None:
        for i, pos in enumerate(ranked.positions.tolist()):
            ccy = int(ranked.currency[i])
            found[pos] = b',"effective":' + orjson.dumps(
                {
                    "currency": CURRENCIES[ccy],
                    "litres": fen_text(int(ranked.litres_cl[i])),
                    "payable": fen_text(int(ranked.payable[i])),
                    "effective_price_per_litre": price_text(int(ranked.effective_milli[i]), ccy),
                }
            )
    return [found.get(p, b',"effective":null') for p in positions.tolist()]


def wait_members(minutes: list[float | None], stale: list[bool | None]) -> Members:
    """`,"wait_minutes":3.5,"wait_stale":false` (null when unknown)."""
    return [
        b',"wait_minutes":null,"wait_stale":null'
        if m is None
        else b',"wait_minutes":%.1f,"wait_stale":%s' % (m, b"true" if s else b"false")
        for m, s in zip(minutes, stale, strict=True)
    ]


_PRICE = (
    b',"price":{"currency":"%s","pump":"%s","platform":"%s","stale":%s,"gross":"%d.%02d","litres":"%d.%02d",'
    b'"payable":"%d.%02d","effective_price_per_litre":"%s","detour_fuel_litres":"%d.%02d",'
    b'"detour_cost":"%d.%02d","total_cost":"%d.%02d"%s}'
)
_BOOL = {True: b"true", False: b"false"}


def compared_members(ranked: Ranked) -> Members:
    """`,"price":{...}` of the price comparison: the fill's cost here, the detour's, and (engine path) how
    the driver's coupons, payment promotions and points were applied."""
    c = {name: getattr(ranked, name).tolist() for name in PRICE_COLUMNS}
    out = []
    for i, pos in enumerate(ranked.positions.tolist()):
        ccy = c["currency"][i]
        breakdown = ranked.breakdowns.get(pos)
        detail = b"," + orjson.dumps(breakdown_json(breakdown))[1:-1] if breakdown is not None else b""
        out.append(
            _PRICE
            % (
                CURRENCIES[ccy].encode(),
                price_text(c["pump"][i], ccy).encode(),
                price_text(c["platform"][i], ccy).encode(),
                _BOOL[c["stale"][i]],
                *divmod(c["gross"][i], 100),
                *divmod(c["litres_cl"][i], 100),
                *divmod(c["payable"][i], 100),
                price_text(c["effective_milli"][i], ccy).encode(),
                *divmod(c["detour_fuel_cl"][i], 100),
                *divmod(c["detour_cost"][i], 100),
                *divmod(c["total"][i], 100),
                detail,
            )
        )
    return out


def breakdown_json(breakdown: Breakdown) -> dict[str, Any]:
    return {
        "lines": [
            {
                "kind": line.kind.value,
                "rule_id": line.rule_id,
                "description": line.description,
                "amount": format(line.amount.amount, "f"),
            }
            for line in breakdown.lines
        ],
        "coupon_ids": list(breakdown.coupon_ids),
        "payment_promotion_ids": list(breakdown.payment_promotion_ids),
        "points_used": breakdown.points_used,
    }
