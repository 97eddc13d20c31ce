"""Bodies of the driver's own routes (/v1/me/...)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.price_answers import DecimalString


class MyCoupon(BaseModel):
    id: str = Field(examples=["17"])
    template_id: str = Field(examples=["mj200"])
    name: str = Field(description="the operator's name of the coupon", examples=["满200减20"])
    label: str = Field(description="what it takes off, in Chinese", examples=["满200减20"])
    state: Literal["available", "reserved", "used", "expired"]
    state_text: str = Field(description="the state in the driver's language", examples=["可使用"])
    expires_at: str | None = Field(description="when this coupon ends (RFC 3339), null: with its template")
    applies: bool | None = Field(
        description="for the station and fill asked about, whether it can be used; null when none was asked"
    )
    reason: str | None = Field(description="why not (a code: below minimum spend, out of scope: grade ...)")
    reason_text: str | None = Field(
        description="why not, in the driver's language", examples=["未达到使用门槛"]
    )
    detail: str | None = Field(description="the engine's own account of why not (technical)")


class MyCoupons(BaseModel):
    driver_id: str
    station_id: int | None
    grade: str | None
    items: list[MyCoupon]


class MyPoints(BaseModel):
    driver_id: str
    balance: int = Field(ge=0, description="points held")
    held: int = Field(ge=0, description="promised to the driver's open checkouts, not deducted yet")
    available: int = Field(ge=0, description="balance minus held: what a quote may spend")


class LevelDiscount(BaseModel):
    grade: str | None = Field(description="null: every other grade")
    per_litre: DecimalString


class MyLevel(BaseModel):
    driver_id: str
    new_driver: bool = Field(description="never seen before this request (no orders, coupons or points)")
    first_order: bool = Field(description="the next order is the driver's first")
    level: str | None = Field(description="the member level's code, null: none", examples=["gold"])
    name: str | None = Field(description="its display name (the operator's), in the driver's language")
    discounts: list[LevelDiscount]


class WxPayment(BaseModel):
    """Exactly what `wx.requestPayment` takes (the order core's WeChat Pay sandbox signs it)."""

    model_config = ConfigDict(extra="forbid")
    timeStamp: str = Field(examples=["1764643200"])
    nonceStr: str = Field(examples=["5K8264ILTKCH16CQ2502SI8ZNMTM67VS"])
    package: str = Field(examples=["prepay_id=wxsb_ord_0123456789abcdef01234567"])
    signType: Literal["HMAC-SHA256"]
    paySign: str = Field(pattern=r"^[0-9A-F]{64}$")


class InvoiceRequest(BaseModel):
    title: str
    tax_id: str | None
    email: str
    amount: DecimalString
    status: str = Field(description="requested, issued ... as the order core reports it")
    requested_at: str


class MyOrder(BaseModel):
    checkout_id: str
    order_id: str | None
    state: str = Field(description="ordered (unpaid), paid, fueling, completed, cancelled, refunded")
    station_id: int
    position: int
    nozzle: int
    grade: str
    payable: DecimalString
    currency: str
    coupons: list[str]
    points_used: int
    verification_code: str | None = Field(
        description="six digits for the attendant; only while paid or fueling"
    )
    qr_payload: str | None = Field(description="the attendant's QR; only while paid or fueling")
    paid_at: str | None
    cancel_reason: str | None
    invoice_request: InvoiceRequest | None
    created_at: str


class MyOrders(BaseModel):
    items: list[MyOrder]
    next_cursor: str | None = Field(
        description="give it as `cursor` for the next (older) page; null: no more"
    )


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="driver cancelled", min_length=1, max_length=200)


class InvoiceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200, description="invoice title (抬头): a person or company")
    tax_id: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{15,20}$", description="taxpayer id (税号), companies only"
    )
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254, description="where it is sent")
