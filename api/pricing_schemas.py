"""Request bodies of the pricing routes. Amounts and litres are decimal strings, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.decimal_text import AMOUNT, LEVEL, VOLUME, DecimalText, digits
from api.grade_text import GradeText
from api.instants import Instant
from api.strict_types import MAX_ID, Flag, Whole
from pricing.fills import FillRequest
from pricing.money import Money

CouponIdText = Annotated[str, Field(pattern=r"^[0-9]{1,18}$", description="a coupon id")]
MAX_CHOSEN_COUPONS = 10


class InvalidFill(ValueError):
    """A fill the engine cannot price (nothing to fill, an amount below one fen ...)."""


AmountText = Annotated[Decimal, DecimalText(AMOUNT, "yuan, 0.01 to 100000, at most 2 places", "300.00")]
VolumeText = Annotated[Decimal, DecimalText(VOLUME, "litres, 0.01 to 2000, at most 2 places", "40")]
LevelText = Annotated[
    Decimal, DecimalText(LEVEL, "how full the tank is, 0 (empty) to 0.999, at most 3 places", "0.2")
]
PriceText = Annotated[Decimal, DecimalText(digits(7, 3), "yuan per litre, at most 3 places", "7.59")]


class FillUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tank_capacity: VolumeText = Field(description="tank capacity, litres")
    level: LevelText = Field(description="how full the tank is now, 0 (empty) to 1 (full)")


class Fill(BaseModel):
    """Exactly one of: an amount at the pump price, a volume in litres, or fill up."""

    model_config = ConfigDict(extra="forbid")
    by_amount: AmountText | None = None
    by_litres: VolumeText | None = None
    fill_up: FillUp | None = None

    @model_validator(mode="after")
    def exactly_one(self) -> Fill:
        if sum(x is not None for x in (self.by_amount, self.by_litres, self.fill_up)) != 1:
            raise ValueError("give exactly one of by_amount, by_litres, fill_up")
        return self

    def request(self, currency: str = "CNY") -> FillRequest:
        if self.by_amount is not None:
            return FillRequest.by_amount(Money.of(self.by_amount, currency))
        if self.by_litres is not None:
            return FillRequest.by_litres(self.by_litres)
        assert self.fill_up is not None
        return FillRequest.fill_up(self.fill_up.tank_capacity, self.fill_up.level)


def _exactly_one_of(schema: dict[str, Any]) -> None:
    for prop in schema["properties"].values():  # absent, never null
        prop.pop("default", None)
        options = prop.pop("anyOf", None)
        if options:
            prop.update(next(o for o in options if o.get("type") != "null"))
    schema.update(minProperties=1, maxProperties=1)


class FillBody(Fill):
    """A fill in a JSON body: exactly one of the three members, none of them null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_exactly_one_of, title="Fill")

    @model_validator(mode="before")
    @classmethod
    def no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(value is None for value in data.values()):
            raise ValueError("give exactly one of by_amount, by_litres, fill_up, never null")
        return data


class PriceQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: Whole = Field(ge=1, le=MAX_ID)
    grade: GradeText
    fill: FillBody
    payment_channels: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="channels the driver can pay with: wechat_pay, alipay, unionpay",
    )
    coupons: Literal["best", "none"] | Annotated[list[CouponIdText], Field(max_length=MAX_CHOSEN_COUPONS)] = (
        Field(
            default="best",
            description="which of the driver's coupons to use: `best` (the cheapest allowed set), `none`, or "
            "exactly these coupon ids (GET /v1/me/coupons lists them; 422 coupon-not-applicable when they "
            "cannot be used together for this fill)",
            examples=["best", ["17"]],
        )
    )
    use_points: Flag = Field(
        default=False, description="spend the driver's points (only when asked: default false)"
    )

    def coupon_choice(self) -> tuple[str, ...] | None:
        """None: the best set; (): none; else exactly these."""
        if self.coupons == "best":
            return None
        return () if self.coupons == "none" else tuple(self.coupons)


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=8192)


class StationPriceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grade: GradeText
    tier: str = Field(
        pattern=r"^(pump|platform|member:[A-Za-z0-9_-]{1,32})$", examples=["pump", "platform", "member:gold"]
    )
    price: PriceText
    effective_from: Instant | None = Field(default=None, description="with an offset; default: now")


class StationPrices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prices: list[StationPriceItem] = Field(min_length=1, max_length=500)
