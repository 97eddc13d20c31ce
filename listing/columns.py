"""Optional columns of a station list. Each computes its values for the listed stations, in list order,
as the JSON members (`,"name":value`) it adds to each item."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from geo.coords import CoordSystem
from geo.navigation import navigation_links
from geo.snapshot import Snapshot
from listing.memo import MemberMemo, Window, held, window
from pricing.breakdown import Breakdown
from pricing.compare import PRICE_COLUMNS, CompareRequest, Ranked, rank
from pricing.pricebook import CURRENCIES, NO_PRICE, PriceBook, fen_text, price_text
from pricing.validation import DEFAULT_RULES

Members = list[bytes]  # one per listed station
_NO_EFFECTIVE = b',"effective":null'


def price_members(book: PriceBook, positions: np.ndarray, now: datetime, memo: MemberMemo) -> Members:
    """`,"prices":{"92":{"currency":"CNY","pump":"7.89","platform":"7.59","stale":false},...}`: every grade
    the station has a price for (remembered per station while no confirmation changes staleness)."""
    fresh_since = now.timestamp() - DEFAULT_RULES.stale_after.total_seconds()
    table = memo.table(book, "prices")
    out: Members = []
    for pos in positions.tolist():
        member = held(table.get(pos), fresh_since)
        if member is None:
            member, lo_hi = _price_member(book, pos, fresh_since)
            table[pos] = (member, *lo_hi)
        out.append(member)
    return out


def _price_member(book: PriceBook, pos: int, fresh_since: float) -> tuple[bytes, Window]:
    item: dict[str, dict[str, object]] = {}
    confirmations = []
    for grade, prices in book.grades.items():
        pump = int(prices.pump[pos])
        if pump == NO_PRICE:
            continue
        ccy = int(prices.currency[pos])
        platform = int(prices.platform[pos])
        confirmed = int(prices.confirmed[pos])
        confirmations.append(confirmed)
        item[grade] = {
            "currency": CURRENCIES[ccy],
            "pump": price_text(pump, ccy),
            "platform": price_text(platform, ccy) if platform != NO_PRICE else None,
            "stale": confirmed < fresh_since,
        }
    member = b',"prices":' + orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    return member, window(confirmations, fresh_since)


def anonymous_effective_members(
    book: PriceBook, positions: np.ndarray, request: CompareRequest, memo: MemberMemo
) -> Members:
    """effective_members for a driver without discounts (no engine, no member cut): each station's member
    depends only on its own prices for the grade, so it is remembered per (station, grade, fill) while
    neither its pump nor its platform confirmation changes staleness."""
    assert request.member_cut_milli == 0 and not request.include_stale
    prices = book.for_grade(request.grade)
    if prices is None:
        return [_NO_EFFECTIVE] * len(positions)
    fresh_since = request.now.timestamp() - request.stale_after_seconds
    table = memo.table(book, ("effective", request.grade, request.fill))
    out: list[bytes | None] = []
    missing: list[int] = []
    for i, pos in enumerate(positions.tolist()):
        member = held(table.get(pos), fresh_since)
        if member is None:
            missing.append(i)
        out.append(member)
    if missing:
        todo = positions[missing]
        ranked = rank(prices, todo, np.zeros(len(todo)), replace(request, limit=len(todo)))
        computed = effective_members(ranked, todo)
        for i, pos, member in zip(missing, todo.tolist(), computed, strict=True):
            lo_hi = window((int(prices.confirmed[pos]), int(prices.platform_confirmed[pos])), fresh_since)
            table[pos] = (member, *lo_hi)
            out[i] = member
    return [m if m is not None else _NO_EFFECTIVE for m in out]


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
    return [found.get(p, _NO_EFFECTIVE) for p in positions.tolist()]


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


def navigation_members(snap: Snapshot, positions: np.ndarray, app: str) -> Members:
    """`,"navigation":{"amap":{coord, web, app},"tencent":{...},"baidu":{...}}` (geo/navigation.py)."""
    glons, glats = snap.lonlat[CoordSystem.GCJ02]
    blons, blats = snap.lonlat[CoordSystem.BD09]
    out: Members = []
    for pos in positions.tolist():
        name = orjson.loads(b"{" + snap.fragments[pos] + b"}")["name"]
        links = navigation_links(
            name, (float(glons[pos]), float(glats[pos])), (float(blons[pos]), float(blats[pos])), app
        )
        out.append(b',"navigation":' + orjson.dumps(links))
    return out
