"""Prices: a station's ladder and its own price updates, effective prices, signed quotes, statistics."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api.auth_station import StationAuthDep, StationForbidden
from api.deps import ClockDep, EngineDep, clock_of
from api.driver_identity import DRIVER_OPTIONAL, DriverDep
from api.grade_text import GradeQuery
from api.instants import Instant
from api.language import ACCEPT_LANGUAGE_DOC, language_of
from api.price_answers import EffectivePrice, Ladder, PriceOutcomes, Quote, QuoteCheck, RegionalStats
from api.pricing_schemas import InvalidFill, PriceQuestion, StationPrices, TokenBody
from api.problems import problem_responses
from api.services import services_of
from api.strict_types import MAX_ID
from geo.grades import normalize_grade
from pricing import ladder, quotes
from pricing.effective import PricingRequest, effective_price, for_the_driver
from pricing.money import plain
from pricing.quotes import breakdown_json

router = APIRouter(tags=["prices"])
PRICING_PROBLEMS = {
    400: ["invalid-fill", "unknown-grade"],
    401: ["invalid-driver-token"],
    422: ["price-unavailable", "coupon-not-applicable"],
}
StationId = Annotated[int, Path(ge=1, le=MAX_ID, description="station id")]


def _request(body: PriceQuestion, driver_id: str | None, at: datetime) -> PricingRequest:
    try:
        fill = body.fill.request()
    except ValueError as exc:
        raise InvalidFill(str(exc)) from None
    return PricingRequest(
        station_id=body.station_id,
        grade=normalize_grade(body.grade),
        fill=fill,
        at=at,
        driver_id=driver_id,
        payment_channels=frozenset(body.payment_channels),
        use_points=body.use_points,
        coupons=body.coupon_choice(),
    )


@router.post(
    "/v1/prices/effective",
    operation_id="effectivePrice",
    summary="What this driver pays for this fill (itemised)",
    response_model=EffectivePrice,
    responses=problem_responses(PRICING_PROBLEMS, body=True),
    openapi_extra={**DRIVER_OPTIONAL, "parameters": [ACCEPT_LANGUAGE_DOC]},
)
async def effective(
    body: PriceQuestion, engine: EngineDep, clock: ClockDep, driver_id: DriverDep, http: Request
) -> dict[str, Any]:
    at, language = clock.now(), language_of(http)
    request = _request(body, driver_id, at)

    def compute() -> dict[str, Any]:
        with engine.connect() as conn:
            price, breakdown = effective_price(conn, request)
            breakdown = for_the_driver(conn, price, breakdown, language)
        return {
            "station_id": body.station_id,
            "grade": request.grade,
            "as_of": at.isoformat(),
            **breakdown_json(price, breakdown, language),
        }

    return await run_in_threadpool(compute)


@router.post(
    "/v1/quotes",
    operation_id="createQuote",
    status_code=201,
    summary="A signed quote checkout will honour until it expires",
    response_model=Quote,
    responses=problem_responses(PRICING_PROBLEMS, body=True),
    openapi_extra={**DRIVER_OPTIONAL, "parameters": [ACCEPT_LANGUAGE_DOC]},
)
async def create_quote(
    body: PriceQuestion, engine: EngineDep, request: Request, driver_id: DriverDep
) -> dict[str, Any]:
    settings = services_of(request).settings
    now, language = clock_of(request).now(), language_of(request)
    pricing_request = _request(body, driver_id, now)

    def issue() -> dict[str, Any]:
        with engine.begin() as conn:
            price, breakdown = effective_price(conn, pricing_request)
            breakdown = for_the_driver(conn, price, breakdown, language)
            payload, token = quotes.issue(
                conn,
                settings.quote_keys(),
                price=price,
                breakdown=breakdown,
                fill=pricing_request.fill,
                driver_id=driver_id,
                now=now,
                ttl=timedelta(seconds=settings.quote_ttl_seconds),
                language=language,
            )
        return {**payload, "token": token}

    return await run_in_threadpool(issue)


@router.post(
    "/v1/quotes/verify",
    operation_id="verifyQuote",
    summary="Check a quote token: intact, unexpired, unused",
    response_model=QuoteCheck,
    responses=problem_responses(
        {400: ["invalid-quote"], 401: ["invalid-driver-token"], 410: ["quote-expired"]}, body=True
    ),
    openapi_extra=DRIVER_OPTIONAL,
)
async def verify_quote(
    body: TokenBody, engine: EngineDep, request: Request, driver_id: DriverDep
) -> dict[str, Any]:
    keys, now = services_of(request).settings.quote_keys(), clock_of(request).now()

    def stored() -> tuple[dict[str, Any], bool]:
        with engine.connect() as conn:
            return quotes.verify_stored(conn, keys, body.token, now)

    payload, used = await run_in_threadpool(stored)
    if payload.get("driver_id") != driver_id:  # public: whose quote it is, only to that driver
        payload = {**payload, "driver_id": None}
    return {"valid": True, "used": used, "quote": payload}


@router.get(
    "/v1/stations/{station_id}/prices",
    operation_id="stationPrices",
    summary="A station's price ladder for a grade, as of any time",
    response_model=Ladder,
    responses=problem_responses({400: ["unknown-grade"]}),
)
async def station_ladder(
    station_id: StationId,
    engine: EngineDep,
    clock: ClockDep,
    grade: GradeQuery,
    as_of: Annotated[Instant | None, Query(description="RFC 3339 time with an offset; default now")] = None,
) -> dict[str, Any]:
    code = normalize_grade(grade)
    at = clock.now() if as_of is None else as_of
    found = await run_in_threadpool(ladder.ladder, engine, station_id, code, at)
    return {
        "station_id": station_id,
        "grade": code,
        "as_of": found.as_of.isoformat(),
        "rungs": [
            {
                **asdict(r),
                "price": plain(r.price),
                "effective_from": r.effective_from.isoformat(),
                "confirmed_at": r.confirmed_at.isoformat(),
            }
            for r in found.rungs
        ],
    }


@router.put(
    "/v1/stations/{station_id}/prices",
    operation_id="putStationPrices",
    summary="A station posts its own prices (one or a batch); each is accepted or rejected with a reason",
    response_model=PriceOutcomes,
    responses=problem_responses(
        {400: ["unknown-grade"], 401: ["unauthorized"], 403: ["forbidden"]}, body=True
    ),
)
async def post_prices(
    station_id: StationId,
    body: StationPrices,
    engine: EngineDep,
    clock: ClockDep,
    authenticated: StationAuthDep,
) -> dict[str, Any]:
    if authenticated != station_id:
        raise StationForbidden(f"this credential belongs to station {authenticated}, not {station_id}")
    now = clock.now()
    updates = []
    for item in body.prices:
        updates.append(
            ladder.PriceUpdate(
                station_id=station_id,
                grade=normalize_grade(item.grade),
                tier=item.tier,
                price=item.price,
                effective_from=item.effective_from or now,
                source=f"station:{station_id}",
                confirmed_at=now,
            )
        )
    outcomes = await run_in_threadpool(lambda: ladder.write_prices(engine, updates, now=now))
    results = [
        {
            "index": i,
            "grade": u.grade,
            "tier": u.tier,
            "price": plain(u.price),
            "status": o.status,
            "reason": o.reason,
        }
        for i, (u, o) in enumerate(zip(updates, outcomes, strict=True))
    ]
    return {
        "accepted": sum(o.status != "rejected" for o in outcomes),
        "rejected": sum(o.status == "rejected" for o in outcomes),
        "results": results,
    }


@router.get(
    "/v1/prices/stats",
    operation_id="priceStats",
    summary="Minimum, average and maximum price per grade in a city, a province, both, or everywhere",
    response_model=RegionalStats,
    responses=problem_responses(),
)
async def stats(
    engine: EngineDep,
    clock: ClockDep,
    city: Annotated[str | None, Query(max_length=64, description="city name, e.g. 昆明市")] = None,
    province: Annotated[
        str | None, Query(max_length=64, description="province name, e.g. 云南省; neither: every station")
    ] = None,
    tier: Annotated[str, Query(pattern=r"^(pump|platform)$")] = "pump",
    include_stale: bool = False,
) -> dict[str, Any]:
    found = await run_in_threadpool(
        lambda: ladder.regional_stats(
            engine, province=province, city=city, tier=tier, include_stale=include_stale, as_of=clock.now()
        )
    )
    return {
        "city": city,
        "province": province,
        "tier": tier,
        "include_stale": include_stale,
        "grades": [
            {
                "grade": g.grade,
                "currency": g.currency,
                "stations": g.stations,
                "min": plain(g.min),
                "avg": plain(g.avg),
                "max": plain(g.max),
            }
            for g in found
        ],
    }
