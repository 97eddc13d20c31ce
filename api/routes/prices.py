"""Prices: a station's ladder and its own price updates, effective prices, signed quotes, statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api.auth_station import STAFF_PROBLEMS, StationAdminDep, at_station
from api.checked_route import CheckedRoute
from api.deps import ClockDep, EngineDep, clock_of
from api.driver_identity import DRIVER_OPTIONAL, DriverDep
from api.grade_text import OptionalGradeQuery
from api.instants import Instant, instant_text
from api.ladder_json import ladder_json
from api.language import ACCEPT_LANGUAGE_DOC, language_of
from api.name_patterns import REGION_PATTERN
from api.price_answers import EffectivePrice, Ladder, PriceOutcomes, Quote, QuoteCheck, RegionalStats
from api.pricing_schemas import InvalidFill, PriceQuestion, StationPrices, TokenBody
from api.problems import problem_responses
from api.services import services_of
from api.stats_region import stats_region
from api.strict_types import MAX_ID
from geo.grades import normalize_grade
from pricing import ladder, quotes
from pricing.effective import PricingRequest, effective_price, for_the_driver
from pricing.money import plain, price_text
from pricing.quotes import breakdown_json

router = APIRouter(tags=["prices"], route_class=CheckedRoute)
PRICING_PROBLEMS = {
    400: ["invalid-fill", "unknown-grade"],
    401: ["invalid-driver-token"],
    404: ["station-not-found"],
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
            "as_of": instant_text(at),
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
    summary="A station's price ladder for a grade, or for every grade it sells, as of any time",
    response_model=Ladder,
    responses=problem_responses({400: ["unknown-grade"], 404: ["station-not-found"]}),
)
async def station_ladder(
    station_id: StationId,
    engine: EngineDep,
    clock: ClockDep,
    grade: OptionalGradeQuery = None,
    as_of: Annotated[Instant | None, Query(description="RFC 3339 time with an offset; default now")] = None,
) -> dict[str, Any]:
    code = None if grade is None else normalize_grade(grade)
    at = clock.now() if as_of is None else as_of

    def read() -> list[ladder.Ladder]:
        with engine.connect() as conn:
            return ladder.ladders(conn, station_id, None if code is None else [code], at)

    found = await run_in_threadpool(read)
    body: dict[str, Any] = {"station_id": station_id, "grade": code, "as_of": instant_text(at)}
    if code is not None:
        body["rungs"] = ladder_json(found[0])["rungs"]
    body["grades"] = [ladder_json(f) for f in found]
    return body


@router.put(
    "/v1/stations/{station_id}/prices",
    operation_id="putStationPrices",
    summary="A station posts its own prices (one or a batch); each is accepted or rejected with a reason",
    response_model=PriceOutcomes,
    responses=problem_responses({400: ["unknown-grade"], **STAFF_PROBLEMS}, body=True),
)
async def post_prices(
    station_id: StationId,
    body: StationPrices,
    engine: EngineDep,
    clock: ClockDep,
    staff: StationAdminDep,
) -> dict[str, Any]:
    at_station(staff, station_id)
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
    responses=problem_responses({404: ["region-not-found"], 503: ["index-not-ready"]}),
)
async def stats(
    request: Request,
    engine: EngineDep,
    clock: ClockDep,
    city: Annotated[
        str | None,
        Query(
            pattern=REGION_PATTERN,
            description="city: adcode (530100), full name (昆明市) or short name (昆明)",
        ),
    ] = None,
    province: Annotated[
        str | None,
        Query(
            pattern=REGION_PATTERN,
            description="province: adcode (530000), full name (云南省) or short name (云南); neither: every "
            "station",
        ),
    ] = None,
    tier: Annotated[str, Query(pattern=r"^(pump|platform)$")] = "pump",
    include_stale: bool = False,
) -> dict[str, Any]:
    region = stats_region(services_of(request).index.snapshot.regions, city=city, province=province)
    found = await run_in_threadpool(
        lambda: ladder.regional_stats(
            engine,
            province=region.province,
            city=region.city,
            tier=tier,
            include_stale=include_stale,
            as_of=clock.now(),
        )
    )
    return {
        "city": region.city,
        "province": region.province,
        "tier": tier,
        "include_stale": include_stale,
        "grades": [
            {
                "grade": g.grade,
                "currency": g.currency,
                "stations": g.stations,
                "min": price_text(g.min, g.currency),
                "avg": price_text(g.avg, g.currency),
                "max": price_text(g.max, g.currency),
            }
            for g in found
        ],
    }
