"""Partner routes (issue 15): who the key belongs to and its usage. Every partner route takes
`partner_with(scope)` (api/auth_partner.py): key, quota, scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from access import partners, quotas
from api.auth_partner import PARTNER_PROBLEMS, Partner, partner_with
from api.checked_route import CheckedRoute
from api.partner_answers import PartnerMe, PartnerUsage, licence_fields
from api.problems import problem_responses
from api.services import services_of

router = APIRouter(prefix="/v1/partner", tags=["partner"], route_class=CheckedRoute)
# Any scope proves a partner: /me and /usage need the one every partner has (reading stations).
AnyPartner = Annotated[Partner, Depends(partner_with("stations:read"))]
MAX_DAYS = 92
_NO_STORE = {"Cache-Control": "private, no-store"}


def _limits(account: partners.PartnerAccount) -> dict[str, Any]:
    return {
        "rate_per_second": account.rate_per_second,
        "burst": account.burst,
        "daily_quota": account.daily_quota,
    }


def _day(day: quotas.DayUsage) -> dict[str, Any]:
    return {"day": day.day.isoformat(), "served": day.served, "refused": day.refused}


@router.get(
    "/me",
    operation_id="partnerMe",
    summary="The partner account of this key: defaults, scopes, limits, today's usage",
    response_model=PartnerMe,
    responses=problem_responses(PARTNER_PROBLEMS),
)
async def partner_me(request: Request, response: Response, partner: AnyPartner) -> dict[str, Any]:
    response.headers.update(_NO_STORE)
    services = services_of(request)
    now = services.clock.now()

    def read() -> tuple[partners.PartnerAccount, quotas.DayUsage]:
        return partners.get_partner(services.engine, partner.partner_id), quotas.usage(
            services.engine, partner.partner_id, now, 1
        )[0]

    account, today = await run_in_threadpool(read)
    body = {
        "partner_id": partner.partner_id,
        "name": partner.name,
        "coord": partner.coord,
        "language": partner.language,
        "key_id": partner.key_id,
        "scopes": sorted(partner.scopes),
        "limits": _limits(account),
        "today": _day(today),
        **licence_fields(services.settings),
    }
    return body


@router.get(
    "/usage",
    operation_id="partnerUsage",
    summary="Requests served and refused per China day (today first), the limits and what is left today",
    response_model=PartnerUsage,
    responses=problem_responses(PARTNER_PROBLEMS),
)
async def partner_usage(
    request: Request,
    response: Response,
    partner: AnyPartner,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="how many China days, today included")] = 7,
) -> dict[str, Any]:
    response.headers.update(_NO_STORE)
    services = services_of(request)
    now = services.clock.now()

    def read() -> tuple[partners.PartnerAccount, list[quotas.DayUsage]]:
        return partners.get_partner(services.engine, partner.partner_id), quotas.usage(
            services.engine, partner.partner_id, now, days
        )

    account, found = await run_in_threadpool(read)
    left = None if account.daily_quota is None else max(0, account.daily_quota - found[0].served)
    body = {
        "partner_id": partner.partner_id,
        "limits": _limits(account),
        "quota_left_today": left,
        "days": [_day(d) for d in found],
        **licence_fields(services.settings),
    }
    return body
