"""Unpaid orders expire: created → cancelled ("expired"), with the callback; consistent when read early.
The order core's clock is the test's: moving it past the payment TTL is what expires an order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from ordercore import repository
from tests.ordercore_support import CallbackReceiver, order_body, ordercore_settings, running_ordercore
from timekeeping.clock import ManualClock

TTL = timedelta(seconds=900)
START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # the clock stands here until the test moves it


def test_unpaid_order_expires_with_a_callback(
    ordercore_engine: Engine, database_url: str, receiver: CallbackReceiver, clock: ManualClock
) -> None:
    settings = ordercore_settings(
        database_url, receiver.url, payment_ttl_seconds=900, expiry_sweep_seconds=0.1
    )
    clock.set(START)
    with running_ordercore(settings, clock) as core:
        unpaid = core.create("expire-me", order_body()).json()
        assert (unpaid["created_at"], unpaid["expires_at"]) == (
            "2026-11-24T02:00:00Z",
            "2026-11-24T02:15:00Z",
        )
        paid = core.create("pay-me", order_body()).json()
        assert core.pay(paid).status_code == 200
        clock.advance(TTL - timedelta(seconds=1))  # not yet: the sweep leaves it alone
        assert core.client.get(f"/v1/orders/{unpaid['order_id']}").json()["state"] == "created"
        clock.advance(timedelta(seconds=1))
        events = receiver.wait_for_states(unpaid["order_id"], ["created", "cancelled"])
        assert events[1]["previous_state"] == "created"
        assert events[1]["order"]["cancel_reason"] == "expired"
        late = core.pay(unpaid)
        assert late.status_code == 409 and late.json()["state"] == "cancelled"
        assert core.client.get(f"/v1/orders/{paid['order_id']}").json()["state"] == "paid"
    with ordercore_engine.connect() as conn:
        assert repository.transitions(conn, unpaid["order_id"])[-1] == ("created", "cancelled", "expired")


def test_an_expired_order_not_yet_swept_reads_as_cancelled(
    ordercore_engine: Engine, database_url: str, receiver: CallbackReceiver, clock: ManualClock
) -> None:
    # The sweep runs at start-up only (every hour): reading the order must expire it.
    settings = ordercore_settings(
        database_url, receiver.url, payment_ttl_seconds=900, expiry_sweep_seconds=3600
    )
    clock.set(START)
    with running_ordercore(settings, clock) as core:
        first = core.create("read-1", order_body()).json()
        second = core.create("read-2", order_body()).json()
        assert first["state"] == "created"
        clock.advance(TTL)  # past expires_at
        got = core.client.get(f"/v1/orders/{first['order_id']}").json()
        assert (got["state"], got["cancel_reason"]) == ("cancelled", "expired")
        found = core.client.get("/v1/orders", params={"idempotency_key": "read-2"}).json()["items"]
        assert (found[0]["state"], found[0]["cancel_reason"]) == ("cancelled", "expired")
        # Creating again with the same key and body gives the order as it is now.
        again = core.create("read-1", order_body())
        assert again.status_code == 200 and again.json()["state"] == "cancelled"
        receiver.wait_for_states(first["order_id"], ["created", "cancelled"])
        receiver.wait_for_states(second["order_id"], ["created", "cancelled"])
