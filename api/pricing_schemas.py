"""Request bodies of the pricing routes. Amounts and litres are decimal strings, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from api.instants import Instant
from pricing.fills import FillRequest
from pricing.money import Money


class InvalidFill(ValueError):
    """A fill the engine cannot price (nothing to fill, an amount below one fen ...)."""


def _no_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError('amounts are decimal strings such as "300.00", never JSON numbers with a fraction')
    return value


DecimalText = Annotated[
    Decimal, BeforeValidator(_no_float), Field(description='a decimal number as a string, e.g. "300.00"')
]


class FillUp(BaseModel):
    tank_capacity: DecimalText = Field(gt=0, le=2000, description="tank capacity, litres")
    level: DecimalText = Field(ge=0, lt=1, description="how full the tank is now, 0 (empty) to 1 (full)")


class Fill(BaseModel):
    """Exactly one of: an amount at the pump price, a volume in litres, or fill up."""

    model_config = ConfigDict(extra="forbid")
    by_amount: DecimalText | None = Field(default=None, gt=0, le=100_000, decimal_places=2)
    by_litres: DecimalText | None = Field(default=None, gt=0, le=2000)
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


class PriceQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: int = Field(ge=1, le=2**63 - 1)
    grade: str = Field(min_length=1, max_length=16, examples=["92"])
    fill: Fill
    payment_channels: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="channels the driver can pay with: wechat_pay, alipay, unionpay",
    )
    use_points: bool = True


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=8192)


class StationPriceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grade: str = Field(min_length=1, max_length=16)
    tier: str = Field(
        pattern=r"^(pump|platform|member:[A-Za-z0-9_-]{1,32})$", examples=["pump", "platform", "member:gold"]
    )
    price: DecimalText = Field(description='yuan per litre, e.g. "7.59"')
    effective_from: Instant | None = Field(default=None, description="with an offset; default: now")


class StationPrices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prices: list[StationPriceItem] = Field(min_length=1, max_length=500)
