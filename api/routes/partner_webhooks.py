"""Webhook subscriptions of a partner: create (the signing secret shown once), list, read, delete, and
replay from a cursor (which also re-enables a subscription disabled after repeated failures). Deliveries
are made by the worker `python -m partners.webhook_worker`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from api.checked_route import CheckedRoute
from api.partner_params import PARTNER_PROBLEMS, WebhookManager
from api.partner_schemas import (
    CreatedSubscription,
    ReplayAnswer,
    ReplayBody,
    Subscription,
    SubscriptionBody,
    Subscriptions,
)
from api.problems import merge, problem_responses
from api.services import services_of
from geo.coords import CoordSystem
from geo.grades import normalize_grade
from partners import price_events, subscriptions
from pricing.money import price_text
from timekeeping.rfc3339 import instant_text

router = APIRouter(prefix="/v1/partner/webhooks", tags=["partner"], route_class=CheckedRoute)
SubscriptionId = Annotated[int, Path(ge=1, le=2**63 - 1, description="subscription id")]
NOT_FOUND = merge(PARTNER_PROBLEMS, {404: ["subscription-not-found"]})
MAX_REPLAY_CHANGES = 500_000


def subscription_json(s: subscriptions.Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "url": s.url,
        "coord": s.coord,
        "adcode": s.adcode,
        "brands": s.brands,
        "grades": s.grades,
        "tiers": s.tiers,
        "threshold": price_text(s.threshold),
        "active": s.active,
        "consecutive_failures": s.consecutive_failures,
        "disabled_at": None if s.disabled_at is None else instant_text(s.disabled_at),
        "created_at": instant_text(s.created_at),
        "pending": s.pending,
    }


@router.post(
    "",
    operation_id="createPartnerWebhook",
    status_code=201,
    summary="Subscribe to price changes (region, brands, grades, tiers, threshold); the secret is shown once",
    description=(
        "Each delivery is a POST of one JSON event with `X-Stations-Timestamp` (Unix seconds) and "
        "`X-Stations-Signature: v1=<hex HMAC-SHA256(secret, timestamp + '.' + body)>`, plus "
        "`X-Stations-Event-Id` and `X-Stations-Delivery-Attempt`. Answer 2xx to acknowledge; anything else "
        "is retried with exponential backoff; a station's events arrive in commit order; after repeated "
        "consecutive failures the subscription is disabled (replay to resume)."
    ),
    response_model=CreatedSubscription,
    responses=problem_responses(merge(PARTNER_PROBLEMS, {400: ["unknown-grade"]}), body=True),
)
async def create(request: Request, partner: WebhookManager, body: SubscriptionBody) -> dict[str, Any]:
    services = services_of(request)
    new = subscriptions.NewSubscription(
        url=body.url,
        coord=CoordSystem.parse(body.coord or partner.coord),
        adcode=body.adcode,
        brands=sorted(set(body.brands)),
        grades=sorted({normalize_grade(g) for g in body.grades}),
        tiers=sorted(set(body.tiers)),
        threshold=body.threshold,
    )
    now = services.clock.now()

    def write() -> tuple[subscriptions.Subscription, str]:
        with services.engine.begin() as conn:
            return subscriptions.create(conn, partner.partner_id, new, now)

    created, secret = await run_in_threadpool(write)
    return {**subscription_json(created), "secret": secret}


@router.get(
    "",
    operation_id="listPartnerWebhooks",
    summary="Your webhook subscriptions",
    response_model=Subscriptions,
    responses=problem_responses(PARTNER_PROBLEMS),
)
async def list_all(request: Request, partner: WebhookManager) -> dict[str, Any]:
    engine = services_of(request).engine

    def read() -> list[subscriptions.Subscription]:
        with engine.connect() as conn:
            return subscriptions.of_partner(conn, partner.partner_id)

    return {"items": [subscription_json(s) for s in await run_in_threadpool(read)]}


@router.get(
    "/{subscription_id}",
    operation_id="getPartnerWebhook",
    summary="One subscription: active or disabled, consecutive failures, deliveries waiting",
    response_model=Subscription,
    responses=problem_responses(NOT_FOUND),
)
async def get_one(
    request: Request, partner: WebhookManager, subscription_id: SubscriptionId
) -> dict[str, Any]:
    engine = services_of(request).engine

    def read() -> subscriptions.Subscription:
        with engine.connect() as conn:
            return subscriptions.one(conn, partner.partner_id, subscription_id)

    return subscription_json(await run_in_threadpool(read))


@router.delete(
    "/{subscription_id}",
    operation_id="deletePartnerWebhook",
    summary="End a subscription (its pending deliveries are dropped)",
    response_model=Subscription,
    responses=problem_responses(NOT_FOUND),
)
async def delete(
    request: Request, partner: WebhookManager, subscription_id: SubscriptionId
) -> dict[str, Any]:
    engine = services_of(request).engine

    def write() -> subscriptions.Subscription:
        with engine.begin() as conn:
            found = subscriptions.one(conn, partner.partner_id, subscription_id)
            subscriptions.delete(conn, partner.partner_id, subscription_id)
            return found

    return subscription_json(await run_in_threadpool(write))


@router.post(
    "/{subscription_id}/replay",
    operation_id="replayPartnerWebhook",
    summary="Deliver again every matching event after a cursor; re-enables a disabled subscription",
    response_model=ReplayAnswer,
    responses=problem_responses(
        merge(NOT_FOUND, {400: ["invalid-cursor"], 410: ["resync-required"], 422: ["replay-too-large"]}),
        body=True,
    ),
)
async def replay(
    request: Request, partner: WebhookManager, subscription_id: SubscriptionId, body: ReplayBody
) -> dict[str, Any]:
    services = services_of(request)
    now = services.clock.now()

    def write() -> tuple[subscriptions.Subscription, price_events.Enqueued]:
        with services.engine.begin() as conn:
            subscriptions.one(conn, partner.partner_id, subscription_id)
            done = price_events.replay(conn, subscription_id, body.cursor, now, MAX_REPLAY_CHANGES)
            subscriptions.reactivate(conn, subscription_id, now)
            return subscriptions.one(conn, partner.partner_id, subscription_id), done

    found, done = await run_in_threadpool(write)
    return {"subscription": subscription_json(found), "changes": done.changes, "enqueued": done.deliveries}
