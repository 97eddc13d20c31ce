"""Signed quotes: the price a driver was promised, which checkout honours exactly once before it expires.

A token is `<key id>.<payload>.<signature>`: the payload is canonical JSON (base64url) of the quote,
the signature HMAC-SHA256 over `<key id>.<payload>` with that key. Keys rotate by id: verification
accepts every configured key, issuing uses the current one. The payload carries the amounts, so a
price change after the quote does not change a valid quote. Every quote is stored; consuming it marks
it used, so a replayed token is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, text

from pricing.breakdown import Breakdown
from pricing.context import PriceContext
from pricing.fills import FillRequest
from pricing.texts import Language, reason_text
from timekeeping.rfc3339 import instant_text


class QuoteError(ValueError):
    pass


class QuoteInvalid(QuoteError):
    """Malformed, signed with an unknown key, or tampered with."""


class QuoteExpired(QuoteError):
    pass


class QuoteAlreadyUsed(QuoteError):
    pass


@dataclass(frozen=True)
class SigningKeys:
    current: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current quote key id has no key")
        if any(len(k) < 32 for k in self.keys.values()):
            raise ValueError("quote signing keys need at least 32 bytes")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text_: str) -> bytes:
    return base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4))


def _sign(keys: SigningKeys, kid: str, body: str) -> str:
    return _b64(hmac.new(keys.keys[kid], f"{kid}.{body}".encode(), hashlib.sha256).digest())


def _text(value: Decimal) -> str:
    """A decimal as written, with its quantum kept ("300.00", never "3E+2" or "300")."""
    return format(value, "f")


def fill_json(fill: FillRequest) -> dict[str, str]:
    out = {"mode": fill.mode.value}
    if fill.amount is not None:
        out["amount"] = _text(fill.amount.amount)
    if fill.volume is not None:
        out["litres"] = _text(fill.volume)
    if fill.tank_capacity is not None and fill.level is not None:
        out |= {"tank_capacity": _text(fill.tank_capacity), "level": _text(fill.level)}
    return out


def breakdown_json(price: PriceContext, breakdown: Breakdown, language: Language = "zh") -> dict[str, Any]:
    return {
        "currency": breakdown.gross.currency,
        "pump_price": _text(price.pump_price),
        "platform_price": _text(price.platform_price),
        "gross": _text(breakdown.gross.amount),
        "lines": [
            {
                "kind": line.kind.value,
                "rule_id": line.rule_id,
                "description": line.description,
                "amount": _text(line.amount.amount),
                "reason": line.reason,
                "measured_on": _text(line.subtotal_before.amount),
            }
            for line in breakdown.lines
        ],
        "payable": _text(breakdown.payable.amount),
        "litres": _text(breakdown.litres),
        "effective_price_per_litre": _text(breakdown.effective_price),
        "coupon_ids": list(breakdown.coupon_ids),
        "payment_promotion_ids": list(breakdown.payment_promotion_ids),
        "payment_channel": breakdown.payment_channel,
        "points_used": breakdown.points_used,
        "unused_coupons": [
            {
                "instance_id": u.instance_id,
                "reason": u.reason.value,
                "reason_text": reason_text(u.reason, language),
                "detail": u.detail,
            }
            for u in breakdown.unused
        ],
    }


def issue(
    conn: Connection,
    keys: SigningKeys,
    *,
    price: PriceContext,
    breakdown: Breakdown,
    fill: FillRequest,
    driver_id: str | None,
    now: datetime,
    ttl: timedelta,
    language: Language = "zh",
) -> tuple[dict[str, Any], str]:
    """Store and sign a quote (its texts in `language`); returns its payload and token."""
    payload: dict[str, Any] = {
        "quote_id": uuid.uuid4().hex,
        "station_id": int(price.station_id),
        "grade": price.grade,
        "driver_id": driver_id,
        "fill": fill_json(fill),
        "issued_at": instant_text(now),
        "expires_at": instant_text(now + ttl),
        **breakdown_json(price, breakdown, language),
    }
    body = _b64(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS))
    token = f"{keys.current}.{body}.{_sign(keys, keys.current, body)}"
    conn.execute(
        text(
            "INSERT INTO quotes (id, token_sha256, station_id, driver_id, payable, currency, payload, "
            "issued_at, expires_at) VALUES (:id, :h, :s, :d, :p, :c, CAST(:payload AS jsonb), :i, :e)"
        ),
        {
            "id": payload["quote_id"],
            "h": _token_hash(token),
            "s": payload["station_id"],
            "d": driver_id,
            "p": payload["payable"],
            "c": payload["currency"],
            "payload": orjson.dumps(payload).decode(),
            "i": now,
            "e": now + ttl,
        },
    )
    return payload, token


def verify(keys: SigningKeys, token: str, now: datetime) -> dict[str, Any]:
    """The quote's payload if the token is intact and unexpired (it may still have been used)."""
    try:
        kid, body, signature = token.split(".")
    except ValueError:
        raise QuoteInvalid("not a quote token") from None
    if kid not in keys.keys:
        raise QuoteInvalid("quote signed with an unknown key")
    if not hmac.compare_digest(_sign(keys, kid, body), signature):
        raise QuoteInvalid("quote token signature does not match: it was altered")
    try:
        payload: dict[str, Any] = orjson.loads(_unb64(body))
        expires_at = datetime.fromisoformat(payload["expires_at"])
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise QuoteInvalid("quote payload is unreadable") from None
    if now >= expires_at:
        raise QuoteExpired(f"quote {payload.get('quote_id')} expired at {payload['expires_at']}")
    return payload


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verify_stored(
    conn: Connection, keys: SigningKeys, token: str, now: datetime
) -> tuple[dict[str, Any], bool]:
    """The payload of a quote this service issued, intact and unexpired, and whether it was used. A token
    that verifies but is not the stored one (re-signed with a leaked key, say) is invalid."""
    payload = verify(keys, token, now)
    quote_id = payload.get("quote_id")
    row = None
    if isinstance(quote_id, str):
        row = conn.execute(
            text("SELECT token_sha256, consumed_at FROM quotes WHERE id = :id"), {"id": quote_id}
        ).first()
    if row is None or not hmac.compare_digest(str(row[0]), _token_hash(token)):
        raise QuoteInvalid("not a quote this service issued: no stored quote has this token")
    return payload, row[1] is not None


def consume(conn: Connection, keys: SigningKeys, token: str, ref: str, now: datetime) -> dict[str, Any]:
    """Verify and mark the quote used by `ref` (an order). The same ref may consume it again
    (a retried checkout); any other use is a replay and is refused."""
    payload, _ = verify_stored(conn, keys, token, now)
    row = conn.execute(
        text(
            "UPDATE quotes SET consumed_at = :now, consumed_ref = :ref "
            "WHERE id = :id AND token_sha256 = :h AND (consumed_ref IS NULL OR consumed_ref = :ref) "
            "RETURNING id"
        ),
        {"now": now, "ref": ref, "id": payload["quote_id"], "h": _token_hash(token)},
    ).first()
    if row is None:
        raise QuoteAlreadyUsed(f"quote {payload['quote_id']} was already used")
    return payload
