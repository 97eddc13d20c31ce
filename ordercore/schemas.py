"""Request bodies of the order core (pydantic, no HTTP), mirroring contracts/ordercore.openapi.yaml."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MONEY_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
LITRES_PATTERN = r"^[0-9]{1,6}(\.[0-9]{1,3})?$"
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
ORDER_ID_PATTERN = r"^ord_[0-9a-z]{1,64}$"
CENT = Decimal("0.01")

MoneyText = Annotated[str, StringConstraints(pattern=MONEY_PATTERN)]
LitresText = Annotated[str, StringConstraints(pattern=LITRES_PATTERN)]
FillValueText = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}(\.[0-9]{1,3})?$")]
CouponId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def money(text: str) -> Decimal:
    return Decimal(text).quantize(CENT)


def decimal_key(text: str | None) -> str | None:
    """A decimal in a form where "26.1" and "26.10" are equal (for comparing request bodies)."""
    return None if text is None else format(Decimal(text).normalize(), "f")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FillIn(_Body):
    kind: Literal["amount", "litres", "full"]
    value: FillValueText | None

    @model_validator(mode="after")
    def _value_matches_kind(self) -> FillIn:
        if self.kind == "full" and self.value is not None:
            raise ValueError("fill.value must be null when fill.kind is 'full'")
        if self.kind != "full" and self.value is None:
            raise ValueError(f"fill.value is required when fill.kind is '{self.kind}'")
        if self.kind == "amount" and Decimal(self.value or "0") != money(self.value or "0"):
            raise ValueError("an amount has at most 2 decimal places")
        return self


class InvoiceIn(_Body):
    title: str = Field(min_length=1, max_length=200)
    tax_id: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{15,20}$")] | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class CreateOrder(_Body):
    quote_id: str = Field(min_length=1, max_length=128)
    quote_token: str = Field(min_length=1, max_length=4096)
    station_id: int = Field(ge=1)
    position: int = Field(ge=1)
    nozzle: int = Field(ge=1)
    grade: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9#-]{1,16}$")]
    fill: FillIn
    litres: LitresText | None = None
    list_amount: MoneyText
    payable: MoneyText
    currency: Literal["CNY"]
    coupons: list[CouponId] = Field(default_factory=list, max_length=20)
    points_used: int = Field(default=0, ge=0)
    driver_id: str = Field(min_length=1, max_length=128)
    invoice: InvoiceIn | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CreateOrder:
        if money(self.payable) > money(self.list_amount):
            raise ValueError("payable is more than list_amount")
        if len(set(self.coupons)) != len(self.coupons):
            raise ValueError("coupons has duplicates")
        return self

    def request_sha256(self) -> str:
        """Hash of the body as the order core understands it: equal amounts written differently match."""
        canonical: dict[str, Any] = self.model_dump(mode="json")
        canonical["list_amount"] = str(money(self.list_amount))
        canonical["payable"] = str(money(self.payable))
        canonical["litres"] = decimal_key(self.litres)
        canonical["fill"] = {"kind": self.fill.kind, "value": decimal_key(self.fill.value)}
        return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


class CancelIn(_Body):
    reason: str = Field(min_length=1, max_length=200)


class PayIn(_Body):
    method: Literal["sandbox"]
    amount: MoneyText


class WxPaymentIn(_Body):
    """What wx.requestPayment hands WeChat (the sandbox's payment confirmation)."""

    timeStamp: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")]
    nonceStr: str = Field(min_length=1, max_length=32)
    package: str = Field(min_length=1, max_length=128)
    signType: Literal["HMAC-SHA256"]
    paySign: Annotated[str, StringConstraints(pattern=r"^[0-9A-F]{64}$")]


class RedeemIn(_Body):
    station_id: int = Field(ge=1)
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    qr_payload: str | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _one_of(self) -> RedeemIn:
        if (self.code is None) == (self.qr_payload is None):
            raise ValueError("give exactly one of code and qr_payload")
        return self


class CompleteIn(_Body):
    litres: LitresText | None = None
    amount: MoneyText


class FaultsIn(_Body):
    delay_ms: int = Field(default=0, ge=0, le=600_000)
    fail_status: int | None = Field(default=None, ge=400, le=599)
    fail_count: int = Field(default=0, ge=-1)
    fail_after_commit: bool = False
    hold: bool = False
