"""A checkout 503 says what really happened: how many calls were made, whether this worker's breaker is
open, and a Retry-After no shorter than the time this worker will still refuse to call (the order core's
own Retry-After when the breaker is closed). Over HTTP against the real order core with injected faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from checkout.breaker import BreakerState, CircuitBreaker
from tests.checkout.conftest import Shop


def unavailable(response: httpx.Response) -> tuple[dict[str, Any], int]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/order-core-unavailable"
    return body, int(response.headers["Retry-After"])


@pytest.fixture
def breaker(shop: Shop) -> Iterator[CircuitBreaker]:
    """This worker's breaker with a 30 s cool-down (far above the order core's Retry-After of 1 s)."""
    breaker = shop.stack.service.client.breaker
    cooldown = breaker.cooldown
    breaker.cooldown = 30.0
    try:
        yield breaker
    finally:
        breaker.cooldown = cooldown
        breaker.record_success()
        shop.stack.clear_faults()


def test_breaker_closed_reports_every_attempt_and_the_order_cores_retry_after(
    shop: Shop, breaker: CircuitBreaker
) -> None:
    shop.add_driver("d1", coupons=0)
    shop.stack.set_faults(fail_status=503, fail_count=-1)  # the order core answers 503 with Retry-After: 1
    body, retry_after = unavailable(shop.checkout(shop.quote("d1")["token"], "closed-1"))
    assert (body["attempts"], body["breaker"]) == (2, "closed")
    assert "answered 503 after 2 attempt(s)" in body["detail"] and retry_after == 1


def test_breaker_opening_after_one_attempt_says_so_and_when_it_calls_again(
    shop: Shop, breaker: CircuitBreaker
) -> None:
    shop.add_driver("d1", coupons=0)
    for _ in range(breaker.threshold - 1):  # one failed attempt short of opening
        breaker.record_failure()
    shop.stack.set_faults(fail_status=503, fail_count=-1)
    body, retry_after = unavailable(shop.checkout(shop.quote("d1")["token"], "opens-1"))
    assert (body["attempts"], body["breaker"]) == (1, "open")
    assert "after 1 attempt(s)" in body["detail"] and "circuit breaker is open" in body["detail"]
    assert breaker.state is BreakerState.OPEN
    # The breaker refuses for its cool-down, not for the order core's 1 s: never shorter than the refusal.
    assert breaker.retry_after() <= retry_after <= 30
    refused, again = unavailable(shop.checkout(shop.quote("d1")["token"], "opens-2"))
    assert (refused["attempts"], refused["breaker"]) == (0, "open") and "no attempt made" in refused["detail"]
    assert breaker.retry_after() <= again <= retry_after
    assert shop.stack.orders_by_key(shop.checkout_row_by_key("opens-2")["id"]) == []
