"""Price comparison around a point: stations ranked by what this driver pays, or by total cost."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.deps import clock_of
from api.driver_pricing import driver_pricer
from api.errors import PROBLEM_RESPONSES
from api.occupancy_columns import wait_columns, wait_members, wait_order
from api.pricing_schemas import Fill, FillUp, InvalidFill
from api.query_params import COMPARE_PARAMETERS, ParameterErrors, parse_compare, query_dict
from geo import coords
from geo.distance import chord_to_metres
from geo.grades import GRADE_BITS, normalize_grade
from geo.live_index import LiveIndex
from geo.nearby import NearbyQuery, stations_within
from geo.snapshot import Snapshot
from pricing.breakdown import Breakdown
from pricing.compare import CompareRequest, Ranked, rank
from pricing.pricebook import CURRENCIES, price_text
from pricing.validation import DEFAULT_RULES

router = APIRouter(tags=["prices"])
_OPEN = {1: True, 0: False, -1: None}


def _fill(
    amount: Decimal | None, litres: Decimal | None, tank: Decimal | None, level: Decimal | None
) -> Fill:
    try:
        return Fill(
            by_amount=amount,
            by_litres=litres,
            fill_up=FillUp(tank_capacity=tank, level=level or Decimal(0)) if tank is not None else None,
        )
    except ValueError as exc:
        raise InvalidFill("give exactly one of amount, litres or tank_capacity (with level)") from exc


@router.get(
    "/v1/prices/compare",
    summary="Stations around a point ranked by what this driver pays (or by total cost with the detour)",
    response_model=None,
    responses=PROBLEM_RESPONSES,
    openapi_extra={"parameters": COMPARE_PARAMETERS},
)
async def compare(request: Request) -> Response:
    raw_query: bytes = request.scope["query_string"]
    params = parse_compare(query_dict(raw_query), raw_query)
    index: LiveIndex = request.app.state.index
    coord = params.coord
    lon, lat = params.lon, params.lat
    code = normalize_grade(params.grade)
    fill = _fill(params.amount, params.litres, params.tank_capacity, params.level)
    try:
        fill_request = fill.request()
    except ValueError as exc:
        raise InvalidFill(str(exc)) from None
    wlon, wlat = coords.to_wgs84(lon, lat, coord)
    snap = index.snapshot
    book = request.app.state.prices.book(snap.version)
    now = clock_of(request).now()
    open_state = index.open_state(now)
    query = NearbyQuery(lon=wlon, lat=wlat, radius_m=params.radius_m, limit=1, grade_bit=GRADE_BITS[code])
    positions, chords = stations_within(snap, query, open_state)
    engine_quote, member_cut = (None, 0)
    driver_id = request.headers.get("x-driver-id")
    if driver_id is not None:
        if len(driver_id) > 64:
            raise ParameterErrors(
                [{"in": "header", "name": "X-Driver-Id", "message": "at most 64 characters"}]
            )
        engine_quote, member_cut = await run_in_threadpool(
            driver_pricer, request, snap, driver_id, code, now, frozenset(params.pay), fill_request
        )
    prices = book.for_grade(code)
    compare_request = CompareRequest(
        grade=code,
        fill=fill_request,
        now=now,
        stale_after_seconds=DEFAULT_RULES.stale_after.total_seconds(),
        include_stale=params.include_stale,
        sort="price" if params.sort == "wait" else params.sort,
        limit=len(positions) if params.sort == "wait" else params.limit,
        consumption_l_per_100km=params.consumption_l_per_100km,
        road_factor=params.road_factor,
        member_cut_milli=member_cut,
    )
    ranked = None
    if prices is not None and len(positions):
        if engine_quote is not None:
            ranked = await run_in_threadpool(
                rank, prices, positions, chord_to_metres(chords), compare_request, engine_quote
            )
        else:
            ranked = rank(prices, positions, chord_to_metres(chords), compare_request)
    waits = None
    if params.wait and ranked is not None:
        minutes, stale = wait_columns(request, snap.ids[ranked.positions], code)
        if params.sort == "wait":
            order = wait_order(minutes, ranked.distance_m)[: params.limit]
            ranked = ranked.take(order)
            minutes, stale = [minutes[i] for i in order.tolist()], [stale[i] for i in order.tolist()]
        waits = wait_members(minutes, stale)
    body = _body(
        snap,
        ranked,
        coord,
        (lon, lat),
        code,
        params.radius_m,
        params.sort,
        open_state,
        now,
        len(positions),
        waits,
    )
    return Response(body, media_type="application/json")


_COLUMNS = (
    "positions",
    "distance_m",
    "pump",
    "platform",
    "stale",
    "currency",
    "gross",
    "litres_cl",
    "payable",
    "effective_milli",
    "detour_fuel_cl",
    "detour_cost",
    "total",
)


_ITEM = (
    b'{%s,"location":{"lon":%.6f,"lat":%.6f},"distance_m":%.1f,"open_now":%s,"price":{"currency":"%s",'
    b'"pump":"%s","platform":"%s","stale":%s,"gross":"%d.%02d","litres":"%d.%02d","payable":"%d.%02d",'
    b'"effective_price_per_litre":"%s","detour_fuel_litres":"%d.%02d","detour_cost":"%d.%02d",'
    b'"total_cost":"%d.%02d"%s}%s}'
)
_JSON = {True: b"true", False: b"false", None: b"null"}


def _body(
    snap: Snapshot,
    ranked: Ranked | None,
    coord: coords.CoordSystem,
    origin: tuple[float, float],
    grade: str,
    radius_m: float,
    sort: str,
    open_state: np.ndarray,
    now: datetime,
    nearby: int,
    waits: list[bytes] | None = None,
) -> bytes:
    items = []
    if ranked is not None and len(ranked.positions):
        lons, lats = snap.lonlat[coord]
        c = {name: getattr(ranked, name).tolist() for name in _COLUMNS}
        xs = lons[ranked.positions].tolist()
        ys = lats[ranked.positions].tolist()
        opens = open_state[ranked.positions].tolist()
        for i, pos in enumerate(c["positions"]):
            ccy = c["currency"][i]
            breakdown = ranked.breakdowns.get(pos)
            detail = (
                b"," + orjson.dumps(breakdown_json_lines(breakdown))[1:-1] if breakdown is not None else b""
            )
            items.append(
                _ITEM
                % (
                    snap.fragments[pos],
                    xs[i],
                    ys[i],
                    c["distance_m"][i],
                    _JSON[_OPEN[opens[i]]],
                    CURRENCIES[ccy].encode(),
                    price_text(c["pump"][i], ccy).encode(),
                    price_text(c["platform"][i], ccy).encode(),
                    _JSON[c["stale"][i]],
                    *divmod(c["gross"][i], 100),
                    *divmod(c["litres_cl"][i], 100),
                    *divmod(c["payable"][i], 100),
                    price_text(c["effective_milli"][i], ccy).encode(),
                    *divmod(c["detour_fuel_cl"][i], 100),
                    *divmod(c["detour_cost"][i], 100),
                    *divmod(c["total"][i], 100),
                    detail,
                    waits[i] if waits is not None else b"",
                )
            )
    head = orjson.dumps(
        {
            "coord": coord.value,
            "origin": {"lon": origin[0], "lat": origin[1]},
            "grade": grade,
            "radius_m": radius_m,
            "sort": sort,
            "as_of": now.isoformat(timespec="seconds"),
            "stations_in_radius": nearby,
            "count": len(items),
        }
    )
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


def breakdown_json_lines(breakdown: Breakdown) -> dict[str, Any]:
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
