"""Request bodies of the station staff's order routes (api/routes/station_staff.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.decimal_text import AMOUNT, VOLUME


class RefundBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        min_length=1, max_length=200, description="why the station refunds", examples=["油枪故障"]
    )


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(pattern=AMOUNT, description="what was dispensed, yuan (at most the order's payable)")
    litres: str | None = Field(default=None, pattern=VOLUME, description="litres dispensed")


class RedeemBody(BaseModel):
    """The driver's six-digit code or the QR payload the attendant scanned: exactly one."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$", examples=["123456"])
    qr_payload: str | None = Field(default=None, min_length=1, max_length=256, pattern=r"^[\x21-\x7e]+$")

    @model_validator(mode="after")
    def _one_of(self) -> RedeemBody:
        if (self.code is None) == (self.qr_payload is None):
            raise ValueError("give exactly one of code and qr_payload")
        return self
