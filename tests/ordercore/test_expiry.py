"""Unpaid orders expire: created → cancelled ("expired"), with the callback; consistent when read early."""

from __future__ import annotations

import time

from sqlalchemy import Engine

from ordercore import repository
from tests.ordercore_support import CallbackReceiver, order_body, ordercore_settings, running_ordercore


def test_unpaid_order_expires_with_a_callback(
    ordercore_engine: Engine, database_url: str, receiver: CallbackReceiver
) -> None:
    settings = ordercore_settings(database_url, receiver.url, payment_ttl_seconds=1, expiry_sweep_seconds=0.1)
    with running_ordercore(settings) as core:
        unpaid = core.create("expire-me", order_body()).json()
        paid = core.create("pay-me", order_body()).json()
        assert core.pay(paid).status_code == 200
        events = receiver.wait_for_states(unpaid["order_id"], ["created", "cancelled"])
        assert events[1]["previous_state"] == "created"
        assert events[1]["order"]["cancel_reason"] == "expired"
        late = core.pay(unpaid)
        assert late.status_code == 409 and late.json()["state"] == "cancelled"
        assert core.client.get(f"/v1/orders/{paid['order_id']}").json()["state"] == "paid"
    with ordercore_engine.connect() as conn:
        assert repository.transitions(conn, unpaid["order_id"])[-1] == ("created", "cancelled", "expired")


def test_an_expired_order_not_yet_swept_reads_as_cancelled(
    ordercore_engine: Engine, database_url: str, receiver: CallbackReceiver
) -> None:
    # The sweep runs at start-up only (every hour): reading the order must expire it.
    settings = ordercore_settings(database_url, receiver.url, payment_ttl_seconds=1, expiry_sweep_seconds=3600)
    with running_ordercore(settings) as core:
        first = core.create("read-1", order_body()).json()
        second = core.create("read-2", order_body()).json()
        assert first["state"] == "created"
        time.sleep(1.2)  # past expires_at (a wait for time to pass, not a speed assertion)
        got = core.client.get(f"/v1/orders/{first['order_id']}").json()
        assert (got["state"], got["cancel_reason"]) == ("cancelled", "expired")
        found = core.client.get("/v1/orders", params={"idempotency_key": "read-2"}).json()["items"]
        assert (found[0]["state"], found[0]["cancel_reason"]) == ("cancelled", "expired")
        # Creating again with the same key and body gives the order as it is now.
        again = core.create("read-1", order_body())
        assert again.status_code == 200 and again.json()["state"] == "cancelled"
        receiver.wait_for_states(first["order_id"], ["created", "cancelled"])
        receiver.wait_for_states(second["order_id"], ["created", "cancelled"])
