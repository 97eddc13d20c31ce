"""Checkout's domain errors (no HTTP status here: api/errors.py maps them). Some carry `retry_after`
(seconds) or `problem_fields` (extra machine-readable members of the problem body)."""

from __future__ import annotations

from typing import Any


class CheckoutError(Exception):
    retry_after: float | None = None

    def problem_fields(self) -> dict[str, Any]:
        return {}


class InvalidIdempotencyKey(CheckoutError):
    """Idempotency-Key missing or not 1-128 characters of [A-Za-z0-9_.:-]."""


class DriverRequired(CheckoutError):
    """No driver identity: checkout and the driver's own routes need the signed-in driver."""


class OpenOrderExists(CheckoutError):
    """The driver already has an open order for this position and nozzle."""


class OrderNotPayable(CheckoutError):
    """The order is not waiting for payment (paid already, cancelled, done)."""


class OrderNotCancellable(CheckoutError):
    """The order is fueling or done: it can no longer be cancelled."""


class InvoiceNotYet(CheckoutError):
    """An invoice can be requested once the order is completed."""


class QuoteNotForDriver(CheckoutError):
    """The quote was issued to another driver (or to nobody)."""


class StationClosed(CheckoutError):
    pass


class UnknownNozzle(CheckoutError):
    """The station has no such position or nozzle."""


class NozzleGradeMismatch(CheckoutError):
    pass


class NozzleOffline(CheckoutError):
    pass


class PointsUnavailable(CheckoutError):
    """The quote's points exceed the balance not already promised to the driver's other checkouts."""


class IdempotencyConflict(CheckoutError):
    """The same Idempotency-Key was used with another request body."""


class CheckoutInProgress(CheckoutError):
    """Another request with this key is still talking to the order core."""

    retry_after = 1.0


class CheckoutNotFound(CheckoutError):
    pass


class CheckoutCancelled(CheckoutError):
    """The order behind this key was cancelled (e.g. created after checkout had given up)."""


class CouponNotAvailable(CheckoutError):
    """A coupon of the quote is held by another checkout, used, expired or not the driver's."""

    def __init__(self, detail: str, coupons: dict[str, str]) -> None:
        super().__init__(detail)
        self.coupons = coupons

    def problem_fields(self) -> dict[str, Any]:
        return {"coupons": [{"id": cid, "state": state} for cid, state in self.coupons.items()]}


class OrderCoreDown(CheckoutError):
    """The order core did not answer (stopped, slow, 5xx, breaker open) and no order exists for the key:
    no order was placed, the reservations were released. `attempts`: calls really made to create the
    order; `breaker_open`: this worker's breaker is open (`retry_after` is then its remaining cool-down)."""

    def __init__(
        self, detail: str, retry_after: float, attempts: int = 0, breaker_open: bool = False
    ) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.attempts = attempts
        self.breaker_open = breaker_open

    def problem_fields(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "breaker": "open" if self.breaker_open else "closed",
            "retry_after_seconds": self.retry_after,
        }


class OrderCoreRefused(CheckoutError):
    """The order core answered with a definite 4xx (other than a conflict)."""

    def __init__(self, detail: str, upstream: dict[str, Any]) -> None:
        super().__init__(detail)
        self.upstream = upstream

    def problem_fields(self) -> dict[str, Any]:
        return {"upstream": self.upstream}


class OrderCoreConflict(OrderCoreRefused):
    """The order core answered 409 (for instance an idempotency conflict at the core)."""


class InvalidSignature(CheckoutError):
    """A callback's X-Ordercore-Signature is missing, malformed, stale or wrong."""


class InvalidEvent(CheckoutError):
    """A signed callback whose body is not an order event."""
