"""Operator API: coupon templates, coupons issued to drivers, drivers, member levels, payment promotions and
the stacking policy. Every route needs `Authorization: Bearer <operator token>`. Amounts are strings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.auth_operator import require_operator
from api.deps import ClockDep, EngineDep
from api.errors import PROBLEM_RESPONSES
from api.instants import Instant
from pricing import store
from pricing.context import DriverContext
from pricing.money import Money
from pricing.offers import CouponTemplate, PaymentPromotion, PointsRule, StackingPolicy
from pricing.rules import AmountOff, Conditions, Discount, PercentOff, PerLitreOff, Scope

router = APIRouter(
    prefix="/v1/operator",
    tags=["operator"],
    dependencies=[Depends(require_operator)],
    responses={
        401: {"description": "Operator token missing or wrong (problem details)"},
        **PROBLEM_RESPONSES,
    },
)
T = TypeVar("T")
ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
LEVEL = r"^[a-z0-9_-]+$"


def _no_float(value: Any) -> Any:
    if isinstance(value, float | bool | int):
        raise ValueError('amounts are JSON strings, e.g. "20.00"')
    return value


# Decimal strings at the precision of their column (NUMERIC(digits, places)): more decimal places or digits
# are refused (400 naming the field), never rounded into something the operator did not write.
Yuan = Annotated[
    Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, max_digits=12, decimal_places=2)
]
Percent = Annotated[
    Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, max_digits=5, decimal_places=2)
]
PerLitre = Annotated[
    Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, max_digits=10, decimal_places=3)
]
Litres = Annotated[
    Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, max_digits=10, decimal_places=2)
]
Share = Annotated[
    Decimal, BeforeValidator(_no_float), Field(allow_inf_nan=False, max_digits=4, decimal_places=3)
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountOffBody(_Body):
    kind: Literal["amount_off"]
    threshold: Yuan = Decimal(0)
    amount: Yuan


class PercentOffBody(_Body):
    kind: Literal["percent_off"]
    percent: Percent
    cap: Yuan | None = Field(default=None, gt=0)


class PerLitreOffBody(_Body):
    kind: Literal["per_litre_off"]
    per_litre: PerLitre
    litre_cap: Litres | None = None


class ScopeBody(_Body):
    grades: list[str] = []
    stations: list[str] = []
    brands: list[str] = []
    cities: list[str] = Field(default=[], description="adcodes or city names")


class RuleBody(_Body):
    name: str = ""
    # A CNY-only service: templates and promotions stored in EUR earlier still show and never apply to a
    # CNY price.
    currency: Literal["CNY"] = "CNY"
    discount: Annotated[AmountOffBody | PercentOffBody | PerLitreOffBody, Field(discriminator="kind")]
    scope: ScopeBody = ScopeBody()
    valid_from: Instant | None = None
    valid_to: Instant | None = None
    min_spend: Yuan | None = None
    first_order_only: bool = False
    per_user_limit: int | None = Field(default=None, ge=0, le=1_000_000)

    def engine_discount(self) -> Discount:
        d, cur = self.discount, self.currency
        if isinstance(d, AmountOffBody):
            return AmountOff(Money(d.threshold, cur), Money(d.amount, cur))
        if isinstance(d, PercentOffBody):
            return PercentOff(d.percent, None if d.cap is None else Money(d.cap, cur))
        return PerLitreOff(d.per_litre, d.litre_cap)

    def conditions(self) -> Conditions:
        s = self.scope
        if self.min_spend is not None and self.min_spend <= 0:
            raise ValueError("min_spend must be > 0")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return Conditions(
            Scope(frozenset(s.grades), frozenset(s.stations), frozenset(s.brands), frozenset(s.cities)),
            self.valid_from,
            self.valid_to,
            None if self.min_spend is None else Money(self.min_spend, self.currency),
            self.first_order_only,
            self.per_user_limit,
        )


class TemplateFields(RuleBody):
    exclusive: bool = False
    stacks_with_payment: bool = True

    def template(self, template_id: str) -> CouponTemplate:
        return CouponTemplate(
            template_id,
            self.engine_discount(),
            self.conditions(),
            self.exclusive,
            self.stacks_with_payment,
            self.name,
        )

    @model_validator(mode="after")
    def _valid(self) -> TemplateFields:
        self.template("check")  # the engine's own checks (amounts, percent range ...) as field errors
        return self


class TemplateBody(TemplateFields):
    id: str = Field(pattern=ID)


class PaymentBody(RuleBody):
    id: str = Field(pattern=ID)
    channel: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["wechat_pay", "alipay", "unionpay"])
    stacks_with_coupons: bool = True

    def promotion(self) -> PaymentPromotion:
        return PaymentPromotion(
            self.id,
            self.channel,
            self.engine_discount(),
            self.conditions(),
            self.stacks_with_coupons,
            self.name,
        )

    @model_validator(mode="after")
    def _valid(self) -> PaymentBody:
        self.promotion()
        return self


class IssueBody(_Body):
    template_id: str = Field(pattern=ID)
    count: int = Field(default=1, ge=1, le=100)
    expires_at: Instant | None = None


class DriverBody(_Body):
    member_level: str | None = Field(default=None, pattern=LEVEL)
    completed_orders: int = Field(default=0, ge=0, le=2**31 - 1)
    points_balance: int = Field(default=0, ge=0, le=2**63 - 1)


class LevelDiscount(_Body):
    grade: str | None = Field(default=None, description="null: every grade without its own row")
    per_litre: PerLitre = Field(ge=0, le=100)


class LevelBody(_Body):
    discounts: list[LevelDiscount]

    @model_validator(mode="after")
    def _unique(self) -> LevelBody:
        if len({d.grade for d in self.discounts}) != len(self.discounts):
            raise ValueError("one discount per grade")
        return self


class PointsBody(_Body):
    points_per_yuan: int = Field(default=100, ge=100, le=2_147_483_600, description="a multiple of 100")
    max_share: Share = Decimal("0.5")


class PolicyBody(_Body):
    max_coupons: int = Field(default=1, ge=0, le=10)
    max_payment_promotions: int = Field(default=1, ge=0, le=10)
    coupons_with_payment: bool = True
    station_discount: bool = True
    member_discount: bool = True
    points: PointsBody | None = Field(default=PointsBody(), description="null: points are not accepted")

    def rule(self) -> PointsRule | None:
        return None if self.points is None else PointsRule(self.points.points_per_yuan, self.points.max_share)

    @model_validator(mode="after")
    def _valid(self) -> PolicyBody:
        self.rule()
        return self


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
        "valid_from": c.valid_from and c.valid_from.isoformat(),
        "valid_to": c.valid_to and c.valid_to.isoformat(),
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
            "expires_at": c.expires_at and c.expires_at.isoformat(),
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
    "/coupon-templates", status_code=201, summary="Create a coupon template (409 if the id is taken)"
)
async def create_template(engine: EngineDep, body: TemplateBody) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.save_template(conn, body.template(body.id), create=True, currency=body.currency)
        return _one_template(conn, body.id)

    return await _tx(engine, work)


@router.put("/coupon-templates/{template_id}", summary="Replace a coupon template")
async def replace_template(
    engine: EngineDep, template_id: TemplateId, body: TemplateFields
) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.save_template(conn, body.template(template_id), create=False, currency=body.currency)
        return _one_template(conn, template_id)

    return await _tx(engine, work)


@router.get("/coupon-templates", summary="All coupon templates")
async def list_templates(engine: EngineDep) -> dict[str, Any]:
    rows = await _tx(engine, store.templates)
    return {"templates": [_template_json(t, cur) for t, cur in rows]}


@router.get("/coupon-templates/{template_id}", summary="One coupon template")
async def get_template(engine: EngineDep, template_id: TemplateId) -> dict[str, Any]:
    return await _tx(engine, lambda conn: _one_template(conn, template_id))


@router.put("/drivers/{driver_id}", summary="Create or replace a driver's level, order count and points")
async def put_driver(
    engine: EngineDep, clock: ClockDep, driver_id: DriverId, body: DriverBody
) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.put_driver(conn, driver_id, **body.model_dump())
        return _driver_json(store.load_driver_context(conn, driver_id, clock.now()))

    return await _tx(engine, work)


@router.get("/drivers/{driver_id}", summary="A driver with the coupons held (states as of now)")
async def get_driver(engine: EngineDep, clock: ClockDep, driver_id: DriverId) -> dict[str, Any]:
    return await _tx(
        engine, lambda conn: _driver_json(store.load_driver_context(conn, driver_id, clock.now()))
    )


@router.post(
    "/drivers/{driver_id}/coupons", status_code=201, summary="Issue coupons of a template to a driver"
)
async def issue(engine: EngineDep, driver_id: DriverId, body: IssueBody) -> dict[str, Any]:
    ids = await _tx(
        engine, lambda c: store.issue_coupons(c, driver_id, body.template_id, body.count, body.expires_at)
    )
    return {"driver_id": driver_id, "template_id": body.template_id, "coupon_ids": ids}


@router.put("/member-levels/{level}", summary="Replace a member level's per-litre discounts")
async def put_level(
    engine: EngineDep, level: Annotated[str, Path(pattern=LEVEL)], body: LevelBody
) -> dict[str, Any]:
    await _tx(
        engine, lambda c: store.set_member_level(c, level, {d.grade: d.per_litre for d in body.discounts})
    )
    return {
        "level": level,
        "discounts": [{"grade": d.grade, "per_litre": str(d.per_litre)} for d in body.discounts],
    }


@router.post("/payment-promotions", status_code=201, summary="Create a payment-channel promotion")
async def create_payment(engine: EngineDep, body: PaymentBody) -> dict[str, Any]:
    def work(conn: Connection) -> dict[str, Any]:
        store.save_payment_promotion(conn, body.promotion(), create=True, currency=body.currency)
        return next(_payment_json(p, cur) for p, cur in store.payment_promotions(conn) if p.id == body.id)

    return await _tx(engine, work)


@router.get("/payment-promotions", summary="All payment promotions")
async def list_payments(engine: EngineDep) -> dict[str, Any]:
    rows = await _tx(engine, store.payment_promotions)
    return {"payment_promotions": [_payment_json(p, cur) for p, cur in rows]}


@router.put("/policy", summary="Declare the stacking policy and the points rule")
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


@router.get("/policy", summary="The stacking policy and the points rule in force")
async def get_policy(engine: EngineDep) -> dict[str, Any]:
    return await _tx(engine, _policy_json)
