"""Prices: a station's ladder and its own price updates, effective prices, signed quotes, statistics."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api.auth_station import StationAuthDep, StationForbidden
from api.deps import ClockDep, EngineDep, clock_of
from api.errors import PROBLEM_RESPONSES
from api.instants import AnyTime
from api.pricing_schemas import InvalidFill, PriceQuestion, StationPrices, TokenBody
from geo.grades import normalize_grade
from pricing import ladder, quotes
from pricing.effective import PricingRequest, effective_price
from pricing.money import plain
from pricing.quotes import breakdown_json

router = APIRouter(tags=["prices"])
StationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DriverHeader = Annotated[
    str | None,
    Header(
        alias="X-Driver-Id",
        max_length=64,
        description="the signed-in driver, set by the mini-program gateway",
    ),
]


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
    )


@router.post(
    "/v1/prices/effective",
    summary="What this driver pays for this fill (itemised)",
    responses=PROBLEM_RESPONSES,
)
async def effective(
    body: PriceQuestion, engine: EngineDep, clock: ClockDep, driver_id: DriverHeader = None
) -> dict[str, Any]:
    at = clock.now()
    request = _request(body, driver_id, at)

    def compute() -> dict[str, Any]:
        with engine.connect() as conn:
            price, breakdown = effective_price(conn, request)
        return {
            "station_id": body.station_id,
            "grade": request.grade,
            "as_of": at.isoformat(),
            **breakdown_json(price, breakdown),
        }

    return await run_in_threadpool(compute)


@router.post(
    "/v1/quotes",
    status_code=201,
    summary="A signed quote checkout will honour until it expires",
    responses=PROBLEM_RESPONSES,
)
async def create_quote(
    body: PriceQuestion, engine: EngineDep, request: Request, driver_id: DriverHeader = None
) -> dict[str, Any]:
    settings = request.app.state.settings
    now = clock_of(request).now()
    pricing_request = _request(body, driver_id, now)

    def issue() -> dict[str, Any]:
        with engine.begin() as conn:
            price, breakdown = effective_price(conn, pricing_request)
            payload, token = quotes.issue(
                conn,
                settings.quote_keys(),
                price=price,
                breakdown=breakdown,
                fill=pricing_request.fill,
                driver_id=driver_id,
                now=now,
                ttl=timedelta(seconds=settings.quote_ttl_seconds),
            )
        return {**payload, "token": token}

    return await run_in_threadpool(issue)


@router.post(
    "/v1/quotes/verify", summary="Check a quote token: intact, unexpired, unused", responses=PROBLEM_RESPONSES
)
async def verify_quote(body: TokenBody, engine: EngineDep, request: Request) -> dict[str, Any]:
    keys, now = request.app.state.settings.quote_keys(), clock_of(request).now()

    def stored() -> tuple[dict[str, Any], bool]:
        with engine.connect() as conn:
            return quotes.verify_stored(conn, keys, body.token, now)

    payload, used = await run_in_threadpool(stored)
    return {"valid": True, "used": used, "quote": payload}


@router.get(
    "/v1/stations/{station_id}/prices", summary="A station's price ladder for a grade, as of any time"
)
async def station_ladder(
    station_id: StationId,
    engine: EngineDep,
    clock: ClockDep,
    grade: Annotated[str, Query(description="92, 95, 0 ...")],
    as_of: Annotated[AnyTime | None, Query(description="ISO time; default now")] = None,
) -> dict[str, Any]:
    code = normalize_grade(grade)
    at = clock.now() if as_of is None else as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
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
    summary="A station posts its own prices (one or a batch); each is accepted or rejected with a reason",
    responses=PROBLEM_RESPONSES,
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


@router.get("/v1/prices/stats", summary="Minimum, average and maximum price per grade in a city or province")
async def stats(
    engine: EngineDep,
    clock: ClockDep,
    city: Annotated[str | None, Query(description="city name (e.g. 昆明市) or adcode")] = None,
    province: Annotated[str | None, Query(description="province name (e.g. 云南省) or code")] = None,
    tier: Annotated[str, Query(pattern=r"^(pump|platform)$")] = "pump",
    include_stale: bool = False,
) -> dict[str, Any]:
    if (city is None) == (province is None):
        raise InvalidFill("give exactly one of city or province")
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
