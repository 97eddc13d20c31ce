"""Request bodies of the operator API. Amounts are decimal strings at their column's precision."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from api.decimal_text import DecimalText
from api.instants import Instant
from api.strict_types import MAX_ID, Flag, Whole, whole
from pricing.money import Money
from pricing.offers import CouponTemplate, PaymentPromotion, PointsRule
from pricing.rules import AmountOff, Conditions, Discount, PercentOff, PerLitreOff, Scope

ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
LEVEL = r"^[a-z0-9_-]+$"


# Decimal strings at the precision of their column (NUMERIC(digits, places)) and within the engine's range:
# more places or digits, or a value out of range, are refused (400 naming the field), never rounded.
Yuan = Annotated[
    Decimal,
    DecimalText(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$", "yuan, 0 or more, at most 2 places", "200.00"),
]
PositiveYuan = Annotated[
    Decimal,
    DecimalText(
        r"^([1-9][0-9]{0,9}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$",
        "yuan, above 0, at most 2 places",
        "20.00",
    ),
]
Percent = Annotated[
    Decimal,
    DecimalText(
        r"^([1-9][0-9]?(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$",
        "percent, above 0 and below 100, at most 2 places",
        "5",
    ),
]
PerLitre = Annotated[
    Decimal,
    DecimalText(
        r"^([1-9][0-9]{0,6}(\.[0-9]{1,3})?|0\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$",
        "yuan per litre, above 0, at most 3 places",
        "0.30",
    ),
]
LevelPerLitre = Annotated[
    Decimal,
    DecimalText(
        r"^((0|[1-9][0-9]?)(\.[0-9]{1,3})?|100(\.0{1,3})?)$",
        "yuan per litre, 0 to 100, at most 3 places",
        "0.15",
    ),
]
Litres = Annotated[
    Decimal,
    DecimalText(
        r"^([1-9][0-9]{0,7}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$",
        "litres, above 0, at most 2 places",
        "40",
    ),
]
Share = Annotated[
    Decimal, DecimalText(r"^(0(\.[0-9]{1,3})?|1(\.0{1,3})?)$", "a share, 0 to 1, at most 3 places", "0.5")
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountOffBody(_Body):
    kind: Literal["amount_off"]
    threshold: Yuan = Decimal(0)
    amount: PositiveYuan


class PercentOffBody(_Body):
    kind: Literal["percent_off"]
    percent: Percent
    cap: PositiveYuan | None = None


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
    valid_from: Instant | None = Field(default=None, examples=["2026-11-22T00:00:00+08:00"])
    valid_to: Instant | None = Field(default=None, examples=["2026-12-31T23:59:59+08:00"])
    min_spend: PositiveYuan | None = None
    first_order_only: Flag = False
    per_user_limit: Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(whole)] | None = None

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
    exclusive: Flag = False
    stacks_with_payment: Flag = True

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
    stacks_with_coupons: Flag = True

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
    count: Whole = Field(default=1, ge=1, le=100)
    expires_at: Instant | None = None


class DriverBody(_Body):
    member_level: str | None = Field(default=None, pattern=LEVEL)
    completed_orders: Whole = Field(default=0, ge=0, le=2**31 - 1)
    points_balance: Whole = Field(default=0, ge=0, le=MAX_ID)


class LevelDiscount(_Body):
    grade: str | None = Field(default=None, description="null: every grade without its own row")
    per_litre: LevelPerLitre


class LevelBody(_Body):
    discounts: list[LevelDiscount]
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="display name drivers read (Chinese)",
        examples=["金卡会员"],
    )
    name_en: str | None = Field(
        default=None, min_length=1, max_length=32, description="display name in English", examples=["Gold"]
    )

    @model_validator(mode="after")
    def _unique(self) -> LevelBody:
        if len({d.grade for d in self.discounts}) != len(self.discounts):
            raise ValueError("one discount per grade")
        return self


class PointsBody(_Body):
    points_per_yuan: Whole = Field(default=100, ge=100, le=2_147_483_600, multiple_of=100)
    max_share: Share = Decimal("0.5")


class PolicyBody(_Body):
    max_coupons: Whole = Field(default=1, ge=0, le=10)
    max_payment_promotions: Whole = Field(default=1, ge=0, le=10)
    coupons_with_payment: Flag = True
    station_discount: Flag = True
    member_discount: Flag = True
    points: PointsBody | None = Field(default=PointsBody(), description="null: points are not accepted")

    def rule(self) -> PointsRule | None:
        return None if self.points is None else PointsRule(self.points.points_per_yuan, self.points.max_share)

    @model_validator(mode="after")
    def _valid(self) -> PolicyBody:
        self.rule()
        return self
