"""Price comparison around a point: stations ranked by what this driver pays, or by total cost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.errors import PROBLEM_RESPONSES
from api.pricing_schemas import Fill, FillUp, InvalidFill
from api.query_params import COMPARE_PARAMETERS, ParameterErrors, parse_compare, query_dict
from geo import coords
from geo.distance import chord_to_metres
from geo.grades import GRADE_BITS, normalize_grade
from geo.live_index import LiveIndex
from geo.nearby import NearbyQuery, stations_within
from geo.snapshot import Snapshot
from pricing import store
from pricing.breakdown import Breakdown
from pricing.compare import CompareRequest, EngineQuote, Ranked, rank
from pricing.context import PriceContext
from pricing.fills import FillRequest
from pricing.pricebook import CURRENCIES
from pricing.promotions import quote_price
from pricing.validation import DEFAULT_RULES

router = APIRouter(tags=["prices"])
_OPEN = {1: True, 0: False, -1: None}


def _fen(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _price(milli: int, currency: int) -> str:
    if CURRENCIES[currency] == "CNY":
        return _fen(milli // 10)
    return f"{milli // 1000}.{milli % 1000:03d}"


def _fill(amount: Decimal | None, litres: Decimal | None, tank: Decimal | None, level: Decimal | None) -> Fill:
    try:
        return Fill(by_amount=amount, by_litres=litres,
                    fill_up=FillUp(tank_capacity=tank, level=level or Decimal(0)) if tank is not None else None)  # fmt: skip
    except ValueError as exc:
        raise InvalidFill("give exactly one of amount, litres or tank_capacity (with level)") from exc


def _engine_path(request: Request, snap: Snapshot, driver_id: str, grade: str, now: datetime,
                 channels: frozenset[str], fill_request: FillRequest) -> tuple[EngineQuote | None, int]:  # fmt: skip
    """The driver's context; an engine pricer when the driver holds anything beyond a member discount."""
    engine = request.app.state.engine
    with engine.connect() as conn:
        driver = store.load_driver_context(conn, driver_id, now, payment_channels=channels)
        promotions = store.load_promotions(conn, now)
        policy, _ = store.load_policy(conn)
        member = store.member_per_litre(conn, grade)
    member_cut = member.get((driver.member_level or "", grade), Decimal(0))
    has_payment = any(p.channel in channels for p in promotions.payment)
    has_points = driver.points_balance > 0 and promotions.points is not None
    if not driver.coupons and not has_payment and not has_points:
        return None, int(member_cut * 1000)

    def engine_quote(positions: Sequence[int], pump: np.ndarray, platform: np.ndarray) -> dict[int, Breakdown]:
        ids = [int(snap.ids[p]) for p in positions]
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, brand, adcode, city FROM stations WHERE id = ANY(:ids)"),
                                {"ids": ids}).mappings()  # fmt: skip
            station = {r["id"]: r for r in rows}
        station_scoped = any(c.template.conditions.scope.stations for c in driver.coupons) or any(
            p.conditions.scope.stations for p in promotions.payment
        )
        done: dict[tuple[Any, ...], Breakdown | None] = {}
        out: dict[int, Breakdown] = {}
        for i, (pos, sid) in enumerate(zip(positions, ids, strict=True)):
            s = station[sid]
            key = (int(pump[i]), int(platform[i]), s["brand"], s["adcode"], s["city"], sid if station_scoped else None)
            if key not in done:
                try:
                    price = PriceContext(
                        station_id=str(sid), brand=s["brand"], city=s["adcode"] or "", city_name=s["city"],
                        grade=grade, pump_price=Decimal(int(pump[i])) / 1000,
                        platform_price=Decimal(int(platform[i])) / 1000, member_per_litre=member,
                    )  # fmt: skip
                    done[key] = quote_price(fill_request, price, driver, promotions, policy, now)
                except ValueError:
                    done[key] = None
            found = done[key]
            if found is not None:
                out[pos] = found
        return out

    return engine_quote, int(member_cut * 1000)


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
    now = datetime.now(UTC)
    open_state = index.open_state(now)
    query = NearbyQuery(lon=wlon, lat=wlat, radius_m=params.radius_m, limit=1, grade_bit=GRADE_BITS[code])
    positions, chords = stations_within(snap, query, open_state)
    engine_quote, member_cut = (None, 0)
    driver_id = request.headers.get("x-driver-id")
    if driver_id is not None:
        if len(driver_id) > 64:
            raise ParameterErrors([{"in": "header", "name": "X-Driver-Id", "message": "at most 64 characters"}])
        engine_quote, member_cut = await run_in_threadpool(
            _engine_path, request, snap, driver_id, code, now, frozenset(params.pay), fill_request
        )
    prices = book.for_grade(code)
    compare_request = CompareRequest(
        grade=code, fill=fill_request, now=now, stale_after_seconds=DEFAULT_RULES.stale_after.total_seconds(),
        include_stale=params.include_stale, sort=params.sort, limit=params.limit,
        consumption_l_per_100km=params.consumption_l_per_100km, road_factor=params.road_factor,
        member_cut_milli=member_cut,
    )  # fmt: skip
    ranked = None
    if prices is not None and len(positions):
        if engine_quote is not None:
            ranked = await run_in_threadpool(rank, prices, positions, chord_to_metres(chords), compare_request, engine_quote)
        else:
            ranked = rank(prices, positions, chord_to_metres(chords), compare_request)
    body = _body(snap, ranked, coord, (lon, lat), code, params.radius_m, params.sort, open_state, now, len(positions))
    return Response(body, media_type="application/json")


_COLUMNS = ("positions", "distance_m", "pump", "platform", "stale", "currency", "gross", "litres_cl", "payable",
            "effective_milli", "detour_fuel_cl", "detour_cost", "total")  # fmt: skip


_ITEM = (
    b'{%s,"location":{"lon":%.6f,"lat":%.6f},"distance_m":%.1f,"open_now":%s,"price":{"currency":"%s",'
    b'"pump":"%s","platform":"%s","stale":%s,"gross":"%d.%02d","litres":"%d.%02d","payable":"%d.%02d",'
    b'"effective_price_per_litre":"%s","detour_fuel_litres":"%d.%02d","detour_cost":"%d.%02d",'
    b'"total_cost":"%d.%02d"%s}}'
)
_JSON = {True: b"true", False: b"false", None: b"null"}


def _body(snap: Snapshot, ranked: Ranked | None, coord: coords.CoordSystem, origin: tuple[float, float],
          grade: str, radius_m: float, sort: str, open_state: np.ndarray, now: datetime, nearby: int) -> bytes:  # fmt: skip
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
            detail = b"," + orjson.dumps(breakdown_json_lines(breakdown))[1:-1] if breakdown is not None else b""
            items.append(_ITEM % (
                snap.fragments[pos], xs[i], ys[i], c["distance_m"][i], _JSON[_OPEN[opens[i]]],
                CURRENCIES[ccy].encode(), _price(c["pump"][i], ccy).encode(), _price(c["platform"][i], ccy).encode(),
                _JSON[c["stale"][i]], *divmod(c["gross"][i], 100), *divmod(c["litres_cl"][i], 100),
                *divmod(c["payable"][i], 100), _price(c["effective_milli"][i], ccy).encode(),
                *divmod(c["detour_fuel_cl"][i], 100), *divmod(c["detour_cost"][i], 100),
                *divmod(c["total"][i], 100), detail,
            ))  # fmt: skip
    head = orjson.dumps({
        "coord": coord.value, "origin": {"lon": origin[0], "lat": origin[1]}, "grade": grade,
        "radius_m": radius_m, "sort": sort, "as_of": now.isoformat(timespec="seconds"),
        "stations_in_radius": nearby, "count": len(items),
    })  # fmt: skip
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


def breakdown_json_lines(breakdown: Breakdown) -> dict[str, Any]:
    return {
        "lines": [
            {"kind": line.kind.value, "rule_id": line.rule_id, "description": line.description,
             "amount": format(line.amount.amount, "f")}  # fmt: skip
            for line in breakdown.lines
        ],
        "coupon_ids": list(breakdown.coupon_ids),
        "payment_promotion_ids": list(breakdown.payment_promotion_ids),
        "points_used": breakdown.points_used,
    }


