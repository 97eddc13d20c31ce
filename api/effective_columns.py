"""What this driver pays at each nearby station (nearby with effective=true or sort=effective)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from api.driver_pricing import driver_pricer
from api.query_params import NearbyParams, ParameterErrors
from geo.distance import chord_to_metres
from geo.grades import normalize_grade
from geo.nearby import NearbyQuery, NearbyResult, stations_within
from geo.snapshot import Snapshot
from pricing.compare import CompareRequest, rank
from pricing.fills import FillRequest
from pricing.money import Money
from pricing.pricebook import CURRENCIES, fen_text, price_text
from pricing.validation import DEFAULT_RULES

DEFAULT_AMOUNT = Decimal(300)


async def effective_members(
    request: Request,
    snap: Snapshot,
    params: NearbyParams,
    query: NearbyQuery,
    result: NearbyResult,
    open_state: np.ndarray,
    now: datetime,
) -> tuple[NearbyResult, list[bytes]]:
    """The result (re-ranked by payable for sort=effective) and `,"effective":{...}` per item."""
    assert params.grade is not None
    grade = normalize_grade(params.grade)
    try:
        fill = (
            FillRequest.by_litres(params.litres)
            if params.litres is not None
            else FillRequest.by_amount(Money.of(params.amount or DEFAULT_AMOUNT))
        )
    except ValueError as exc:
        raise ParameterErrors([{"in": "query", "name": "amount", "message": str(exc)}]) from None
    driver_id = request.headers.get("x-driver-id")
    engine_quote, member_cut = None, 0
    if driver_id:
        engine_quote, member_cut = await run_in_threadpool(
            driver_pricer, request, snap, driver_id, grade, now, frozenset(), fill
        )
    if params.sort == "effective":
        positions, chords = stations_within(snap, query, open_state)
        limit = params.limit
    else:
        positions, chords = result.positions, result.chords
        limit = len(positions)
    prices = request.app.state.prices.book(snap.version).for_grade(grade)
    chord_of = dict(zip(positions.tolist(), chords.tolist(), strict=True))
    found: dict[int, bytes] = {}
    order: list[int] = []
    if prices is not None and len(positions):
        compare_request = CompareRequest(
            grade=grade,
            fill=fill,
            now=now,
            stale_after_seconds=DEFAULT_RULES.stale_after.total_seconds(),
            limit=limit,
            member_cut_milli=member_cut,
        )
        distances = chord_to_metres(chords)
        if engine_quote is not None:
            ranked = await run_in_threadpool(
                rank, prices, positions, distances, compare_request, engine_quote
            )
        else:
            ranked = rank(prices, positions, distances, compare_request)
        for i, pos in enumerate(ranked.positions.tolist()):
            ccy = int(ranked.currency[i])
            order.append(pos)
            found[pos] = b',"effective":' + orjson.dumps(
                {
                    "currency": CURRENCIES[ccy],
                    "litres": fen_text(int(ranked.litres_cl[i])),
                    "payable": fen_text(int(ranked.payable[i])),
                    "effective_price_per_litre": price_text(int(ranked.effective_milli[i]), ccy),
                }
            )
    if params.sort == "effective":
        picked = np.asarray(order, dtype=np.int64)
        result = NearbyResult(picked, np.asarray([chord_of[p] for p in order], dtype=np.float64), None)
    return result, [found.get(p, b',"effective":null') for p in result.positions.tolist()]
