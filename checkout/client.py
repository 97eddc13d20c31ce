"""HTTP client of the order core (contracts/ordercore.openapi.yaml).

Every call carries the service token. Connection errors, timeouts, 5xx and 429 are retried a bounded
number of times with jittered exponential backoff (a POST keeps its Idempotency-Key, so a retry never makes
a second order); a 4xx is the order core's final answer (OrderCoreRejected). Each attempt to create an
order goes through the worker's circuit breaker (reads and cancellations do not: see _NoBreaker). When no
attempt succeeds: OrderCoreUnavailable (BreakerOpen when the breaker refused the call).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx

from checkout.breaker import BreakerOpen, BreakerState, CircuitBreaker

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class OrderCoreUnavailable(Exception):
    """The order core did not answer usefully after every attempt made (connection, timeout, 5xx, 429).
    `attempts`: how many were really made (the breaker may have opened before the configured number);
    `breaker_open`: whether this worker's breaker is open now; `retry_after`: seconds until a call may go
    through again (the breaker's cool-down when open, else the order core's own Retry-After, else 2)."""

    def __init__(
        self, reason: str, retry_after: float = 2.0, attempts: int = 0, breaker_open: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.attempts = attempts
        self.breaker_open = breaker_open


class OrderCoreRejected(Exception):
    """A definite 4xx: the order core understood the request and refused it."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
        super().__init__(f"the order core refused the request ({status}): {detail}")
        self.status = status
        self.problem = problem


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff: float = 0.1  # seconds before the 2nd attempt; doubles, with ±50% jitter
    max_backoff: float = 1.0


def make_http_client(
    base_url: str, token: str, connect_timeout: float, read_timeout: float
) -> httpx.AsyncClient:
    timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=read_timeout)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:300]}
    return body if isinstance(body, dict) else {"detail": str(body)[:300]}


class OrderCoreClient:
    def __init__(self, http: httpx.AsyncClient, breaker: CircuitBreaker, retry: RetryPolicy) -> None:
        self.http = http
        self.breaker = breaker
        self.retry = retry

    async def _call(
        self, method: str, path: str, *, attempts: int | None = None, guarded: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """The first non-retryable response (2xx or 4xx); OrderCoreUnavailable when none came. Guarded
        calls (order creation) go through the breaker and count for it."""
        breaker = self.breaker if guarded else _NoBreaker()
        reason = "no attempt made"
        retry_after = 2.0
        total = attempts or self.retry.attempts
        made = 0
        for attempt in range(total):
            if attempt:
                delay = min(self.retry.backoff * 2 ** (attempt - 1), self.retry.max_backoff)
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            try:
                breaker.before_call()
            except BreakerOpen:
                if attempt == 0:
                    raise
                break  # the breaker opened during our retries: stop, report the last failure
            made += 1
            recorded = False
            try:
                response = await self.http.request(method, path, **kwargs)
                if response.status_code in RETRYABLE_STATUS:
                    reason = f"the order core answered {response.status_code}"
                    retry_after = _retry_after(response, retry_after)
                    breaker.record_failure()
                else:
                    breaker.record_success()
                    recorded = True
                    return response
                recorded = True
            except httpx.TimeoutException as exc:
                reason = f"the order core did not answer in time ({type(exc).__name__})"
                breaker.record_failure()
                recorded = True
            except httpx.TransportError as exc:
                reason = f"the order core is unreachable ({type(exc).__name__})"
                breaker.record_failure()
                recorded = True
            finally:
                if not recorded:  # cancelled mid-call: count it, never leave a half-open probe hanging
                    breaker.record_failure()
        reason = f"{reason} after {made} attempt(s)"
        breaker_open = breaker.state is BreakerState.OPEN
        if breaker_open:  # never tell the driver to come back before this worker will call again
            wait = breaker.retry_after()
            retry_after = max(retry_after, wait)
            reason += (
                f"; this worker's circuit breaker is open and lets the next call through in {wait:.1f} s"
            )
        raise OrderCoreUnavailable(reason, retry_after, made, breaker_open)

    async def _json(self, method: str, path: str, ok: tuple[int, ...], **kwargs: Any) -> dict[str, Any]:
        response = await self._call(method, path, **kwargs)
        if response.status_code not in ok:
            raise OrderCoreRejected(response.status_code, _problem(response))
        body: dict[str, Any] = response.json()
        return body

    async def create_order(self, idempotency_key: str, body: dict[str, Any]) -> dict[str, Any]:
        """The order for this key: new (201) or the existing one (200)."""
        return await self._json(
            "POST",
            "/v1/orders",
            (200, 201),
            json=body,
            headers={"Idempotency-Key": idempotency_key},
            guarded=True,
        )

    async def find_by_key(self, idempotency_key: str, attempts: int = 1) -> dict[str, Any] | None:
        """The order created under this key, or None when there is none."""
        response = await self._call(
            "GET", "/v1/orders", attempts=attempts, params={"idempotency_key": idempotency_key}
        )
        if response.status_code != 200:
            raise OrderCoreRejected(response.status_code, _problem(response))
        items = response.json().get("items") or []
        return dict(items[0]) if items else None

    async def get_order(self, order_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/v1/orders/{order_id}", (200,))

    async def cancel_order(self, order_id: str, reason: str) -> dict[str, Any]:
        return await self._json("POST", f"/v1/orders/{order_id}/cancel", (200,), json={"reason": reason})

    async def refund_order(self, order_id: str, reason: str) -> dict[str, Any]:
        return await self._json("POST", f"/v1/orders/{order_id}/refund", (200,), json={"reason": reason})

    async def redeem(self, station_id: int, code: str | None, qr_payload: str | None) -> dict[str, Any]:
        """The attendant's redemption of a paid order's code (or QR) at the station: the order, fueling."""
        body: dict[str, Any] = {"station_id": station_id}
        body |= {"code": code} if code is not None else {"qr_payload": qr_payload}
        return await self._json("POST", "/v1/attendant/redeem", (200,), json=body)

    async def complete_order(self, order_id: str, amount: str, litres: str | None) -> dict[str, Any]:
        """The attendant confirms the fueling: what was dispensed (amount, litres)."""
        body: dict[str, Any] = {"amount": amount} | ({"litres": litres} if litres is not None else {})
        return await self._json("POST", f"/v1/orders/{order_id}/complete", (200,), json=body)

    async def payment_params(self, order_id: str) -> dict[str, Any]:
        """The wx.requestPayment parameters of an unpaid order (the order core's WeChat Pay sandbox)."""
        return await self._json("POST", f"/v1/orders/{order_id}/payment-params", (200,))

    async def request_invoice(self, order_id: str, invoice: dict[str, Any]) -> dict[str, Any]:
        """The order's invoice request (new: 201, already recorded: 200)."""
        path = f"/v1/orders/{order_id}/invoice-request"
        return await self._json("POST", path, (200, 201), json=invoice)


class _NoBreaker:
    """Reads and cancellations are not guarded: the sweep and the "did an order appear?" question must
    reach a core whose creates fail, and their success says nothing about creates."""

    state = BreakerState.CLOSED

    def retry_after(self) -> float:
        return 0.0

    def before_call(self) -> None:
        pass

    def record_success(self) -> None:
        pass

    def record_failure(self) -> None:
        pass


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else default
