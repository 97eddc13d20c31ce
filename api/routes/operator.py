"""Operator API: coupon templates, coupons issued to drivers, drivers, member levels, payment promotions and
the stacking policy. Every route needs `Authorization: Bearer <operator token>`. Amounts are strings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.auth_operator import require_operator
from api.checked_route import CheckedRoute
from api.deps import ClockDep, EngineDep
from api.instants import instant_text
from api.operator_answers import (
    CouponTemplateOut,
    CouponTemplates,
    DriverOut,
    IssuedCoupons,
    MemberLevelOut,
    PaymentPromotionOut,
    PaymentPromotions,
    PolicyOut,
)
from api.operator_bodies import (
    ID,
    LEVEL,
    DriverBody,
    IssueBody,
    LevelBody,
    PaymentBody,
    PolicyBody,
    TemplateBody,
    TemplateFields,
)
from api.problems import problem_responses
from pricing import store
from pricing.context import DriverContext
from pricing.offers import CouponTemplate, PaymentPromotion, StackingPolicy
from pricing.rules import AmountOff, PercentOff

router = APIRouter(
    prefix="/v1/operator",
    tags=["operator"],
    dependencies=[Depends(require_operator)],
    responses=problem_responses({401: ["unauthorized"]}),
    route_class=CheckedRoute,
)
_NO_TEMPLATE = {404: ["coupon-template-not-found"]}
T = TypeVar("T")


# ---- rendering ------------------------------------------------------------------------------------------
def _rule_json(rule: CouponTemplate | PaymentPromotion, currency: str) -> dict[str, Any]:
    d, c = rule.discount, rule.conditions
    discount: dict[str, str | None]
    if isinstance(d, AmountOff):
        discount = {
            "kind": "amount_off",
            "threshold": str(d.threshold.amount),
            "amount": str(d.amount.amount),
        }
    elif isinstance(d, PercentOff):
        discount = {
            "kind": "percent_off",
            "percent": str(d.percent),
            "cap": None if d.cap is None else str(d.cap.amount),
        }
    else:
        litre_cap = None if d.litre_cap is None else str(d.litre_cap)
        discount = {"kind": "per_litre_off", "per_litre": str(d.per_litre), "litre_cap": litre_cap}
    s = c.scope
    return {
        "id": rule.id,
        "name": rule.name,
        "label": d.label(),
        "currency": currency,
        "discount": discount,
        "scope": {k: sorted(getattr(s, k)) for k in ("grades", "stations", "brands", "cities")},
        "valid_from": c.valid_from and instant_text(c.valid_from),
        "valid_to": c.valid_to and instant_text(c.valid_to),
        "min_spend": c.min_spend and str(c.min_spend.amount),
        "first_order_only": c.first_order_only,
        "per_user_limit": c.per_user_limit,
    }


def _template_json(t: CouponTemplate, currency: str) -> dict[str, Any]:
    return {**_rule_json(t, currency), "exclusive": t.exclusive, "stacks_with_payment": t.stacks_with_payment}


def _payment_json(p: PaymentPromotion, currency: str) -> dict[str, Any]:
    return {**_rule_json(p, currency), "channel": p.channel, "stacks_with_coupons": p.stacks_with_coupons}


def _driver_json(d: DriverContext) -> dict[str, Any]:
    coupons = [
        {
            "id": c.id,
            "template_id": c.template.id,
            "state": c.state.value,
            "expires_at": c.expires_at and instant_text(c.expires_at),
        }
        for c in d.coupons
    ]
    return {
        "id": d.driver_id,
        "member_level": d.member_level,
        "first_order": d.is_first_order,
        "points_balance": d.points_balance,
        "coupons": coupons,
        "usage_counts": dict(d.usage_counts),
    }


def _policy_json(conn: Connection) -> dict[str, Any]:
    p, points = store.load_policy(conn)
    rule = (
        None
        if points is None
        else {"points_per_yuan": points.points_per_yuan, "max_share": str(points.max_share)}
    )
    return {
        "max_coupons": p.max_coupons,
        "max_payment_promotions": p.max_payment_promotions,
        "coupons_with_payment": p.coupons_with_payment,
        "station_discount": p.station_discount,
        "member_discount": p.member_discount,
        "points": rule,
    }


async def _tx(engine: EngineDep, work: Callable[[Connection], T]) -> T:
    def run() -> T:
        with engine.begin() as conn:
            return work(conn)

    return await run_in_threadpool(run)


def _one_template(conn: Connection, template_id: str) -> dict[str, Any]:
    found = store.templates(conn, [template_id])
    if not found:
        raise store.TemplateNotFound(f"coupon template {template_id!r} not found")
    return _template_json(*found[0])


TemplateId = Annotated[str, Path(pattern=ID)]
DriverId = Annotated[str, Path(pattern=ID)]


# ---- routes ---------------------------------------------------------------------------------------------
@router.post(
    "/coupon-templates",
    operation_id="createCouponTemplate",
    status_code=201,
    summary="Create a coupon template (409 if the id is taken)",
    response_model=CouponTemplateOut,
    responses=problem_responses({409: ["already-exists"]}, body=True),
)
async def create_template(engine: EngineDep, body: TemplateBody) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.save_template(conn, body.template(body.id), create=True, currency=body.currency)
        return _one_template(conn, body.id)

    return await _tx(engine, work)


@router.put(
    "/coupon-templates/{template_id}",
    operation_id="replaceCouponTemplate",
    summary="Replace a coupon template",
    response_model=CouponTemplateOut,
    responses=problem_responses(_NO_TEMPLATE, body=True),
)
async def replace_template(
    engine: EngineDep, template_id: TemplateId, body: TemplateFields
) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.save_template(conn, body.template(template_id), create=False, currency=body.currency)
        return _one_template(conn, template_id)

    return await _tx(engine, work)


@router.get(
    "/coupon-templates",
    operation_id="listCouponTemplates",
    summary="All coupon templates",
    response_model=CouponTemplates,
)
async def list_templates(engine: EngineDep) -> dict[str, Any]:
    rows = await _tx(engine, store.templates)
    return {"templates": [_template_json(t, cur) for t, cur in rows]}


@router.get(
    "/coupon-templates/{template_id}",
    operation_id="getCouponTemplate",
    summary="One coupon template",
    response_model=CouponTemplateOut,
    responses=problem_responses(_NO_TEMPLATE),
)
async def get_template(engine: EngineDep, template_id: TemplateId) -> dict[str, Any]:
    return await _tx(engine, lambda conn: _one_template(conn, template_id))


@router.put(
    "/drivers/{driver_id}",
    operation_id="putDriver",
    summary="Create or replace a driver's level, order count and points",
    response_model=DriverOut,
    responses=problem_responses(body=True),
)
async def put_driver(
    engine: EngineDep, clock: ClockDep, driver_id: DriverId, body: DriverBody
) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.put_driver(conn, driver_id, **body.model_dump())
        return _driver_json(store.load_driver_context(conn, driver_id, clock.now(), known_only=True))

    return await _tx(engine, work)


@router.get(
    "/drivers/{driver_id}",
    operation_id="getDriver",
    summary="A driver with the coupons held (states as of now)",
    response_model=DriverOut,
    responses=problem_responses({404: ["driver-not-found"]}),
)
async def get_driver(engine: EngineDep, clock: ClockDep, driver_id: DriverId) -> dict[str, Any]:
    return await _tx(
        engine,
        lambda conn: _driver_json(store.load_driver_context(conn, driver_id, clock.now(), known_only=True)),
    )


@router.post(
    "/drivers/{driver_id}/coupons",
    operation_id="issueCoupons",
    status_code=201,
    summary="Issue coupons of a template to a driver",
    response_model=IssuedCoupons,
    responses=problem_responses({404: ["coupon-template-not-found"]}, body=True),
)
async def issue(engine: EngineDep, driver_id: DriverId, body: IssueBody) -> dict[str, Any]:
    ids = await _tx(
        engine, lambda c: store.issue_coupons(c, driver_id, body.template_id, body.count, body.expires_at)
    )
    return {"driver_id": driver_id, "template_id": body.template_id, "coupon_ids": ids}


@router.put(
    "/member-levels/{level}",
    operation_id="putMemberLevel",
    summary="Replace a member level's per-litre discounts",
    response_model=MemberLevelOut,
    responses=problem_responses(body=True),
)
async def put_level(
    engine: EngineDep, level: Annotated[str, Path(pattern=LEVEL)], body: LevelBody
) -> dict[str, Any]:
    def put(conn: Connection) -> None:
        store.set_member_level(conn, level, {d.grade: d.per_litre for d in body.discounts})
        store.set_member_level_name(conn, level, body.name, body.name_en)

    await _tx(engine, put)
    return {
        "level": level,
        "discounts": [{"grade": d.grade, "per_litre": str(d.per_litre)} for d in body.discounts],
        "name": body.name,
        "name_en": body.name_en if body.name else None,
    }


@router.post(
    "/payment-promotions",
    operation_id="createPaymentPromotion",
    status_code=201,
    summary="Create a payment-channel promotion",
    response_model=PaymentPromotionOut,
    responses=problem_responses({409: ["already-exists"]}, body=True),
)
async def create_payment(engine: EngineDep, body: PaymentBody) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.save_payment_promotion(conn, body.promotion(), create=True, currency=body.currency)
        return next(_payment_json(p, cur) for p, cur in store.payment_promotions(conn) if p.id == body.id)

    return await _tx(engine, work)


@router.get(
    "/payment-promotions",
    operation_id="listPaymentPromotions",
    summary="All payment promotions",
    response_model=PaymentPromotions,
)
async def list_payments(engine: EngineDep) -> dict[str, Any]:
    rows = await _tx(engine, store.payment_promotions)
    return {"payment_promotions": [_payment_json(p, cur) for p, cur in rows]}


@router.put(
    "/policy",
    operation_id="putPolicy",
    summary="Declare the stacking policy and the points rule",
    response_model=PolicyOut,
    responses=problem_responses(body=True),
)
async def put_policy(engine: EngineDep, body: PolicyBody) -> dict[str, Any]:
    policy = StackingPolicy(
        body.max_coupons,
        body.max_payment_promotions,
        body.coupons_with_payment,
        body.station_discount,
        body.member_discount,
    )

    def work(conn: Connection) -> dict[str, Any]:
        store.set_policy(conn, policy, body.rule())
        return _policy_json(conn)

    return await _tx(engine, work)


@router.get(
    "/policy",
    operation_id="getPolicy",
    summary="The stacking policy and the points rule in force",
    response_model=PolicyOut,
)
async def get_policy(engine: EngineDep) -> dict[str, Any]:
    return await _tx(engine, _policy_json)
