"""Callbacks: signed, retried with backoff until a 2xx, in order per order, from the outbox."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ordercore import signing
from ordercore.outbox import backoff_seconds
from tests.ordercore_support import (
    CALLBACK_SECRET,
    CallbackReceiver,
    order_body,
    ordercore_settings,
    running_ordercore,
)
from tests.support import free_port, wait_until
from timekeeping.clock import ManualClock


@pytest.fixture
def flaky_receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver(fail_first=3) as r:
        yield r


def _outbox(engine: Engine) -> list[tuple[str, int, bool, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event_id, attempts, delivered_at IS NOT NULL AS done, last_error "
                "FROM ordercore.outbox ORDER BY id"
            )
        )
        return [(r.event_id, r.attempts, r.done, r.last_error) for r in rows]


def test_signature_verifies_and_rejects_tampering() -> None:
    body = b'{"event_id":"evt_1"}'
    now = int(time.time())
    header = signing.sign(b"secret", body, now)
    assert signing.verify(b"secret", header, body, now) == now
    for bad_secret, bad_body, bad_now, bad_header in [
        (b"other", body, now, header),
        (b"secret", body + b" ", now, header),
        (b"secret", body, now + 301, header),
        (b"secret", body, now, header.replace("v1=", "v2=")),
        (b"secret", body, now, None),
    ]:
        with pytest.raises(signing.BadSignature):
            signing.verify(bad_secret, bad_header, bad_body, bad_now)


def test_backoff_doubles_from_half_a_second_up_to_a_minute() -> None:
    assert [backoff_seconds(n, 0.5, 60) for n in (1, 2, 3, 4, 8, 20)] == [0.5, 1, 2, 4, 60, 60]


def test_callbacks_are_retried_until_2xx_and_stay_in_order(
    ordercore_engine: Engine, database_url: str, flaky_receiver: CallbackReceiver
) -> None:
    with running_ordercore(ordercore_settings(database_url, flaky_receiver.url)) as core:
        order = core.create("retry", order_body()).json()
        core.pay(order)
        core.redeem(7, order["verification_code"])
        core.complete(order)
        events = flaky_receiver.wait_for_states(
            order["order_id"], ["created", "paid", "fueling", "completed"]
        )
        wait_until(lambda: all(done for _, _, done, _ in _outbox(ordercore_engine)), what="outbox drained")
    first = events[0]["event_id"]
    tries = [d for d in flaky_receiver.deliveries if d.event["event_id"] == first]
    # The receiver failed the first three deliveries: all of the first event (the later ones waited).
    assert [d.status for d in tries] == [500, 500, 500, 200]
    assert {d.event["event_id"] for d in flaky_receiver.deliveries[:3]} == {first}
    for d in tries:
        signing.verify(CALLBACK_SECRET.encode(), d.signature, d.body, time.time())
    outbox = _outbox(ordercore_engine)
    assert outbox[0][:3] == (first, 4, True)
    assert [attempts for _, attempts, _, _ in outbox[1:]] == [1, 1, 1]


def test_a_receiver_with_another_secret_never_gets_the_event_accepted(
    ordercore_engine: Engine, database_url: str
) -> None:
    with (
        CallbackReceiver(secret="not-the-secret") as receiver,
        running_ordercore(ordercore_settings(database_url, receiver.url)) as core,
    ):
        core.create("bad-secret", order_body())
        wait_until(lambda: len(receiver.rejected) >= 2, what="two rejected deliveries")
        assert receiver.events == []
    ((_, attempts, done, error),) = _outbox(ordercore_engine)
    assert attempts >= 2 and not done
    assert error is not None and error.startswith("HTTP 401")


def test_events_wait_while_the_receiver_is_down_then_arrive(
    ordercore_engine: Engine, database_url: str
) -> None:
    port = free_port()
    down_url = f"http://127.0.0.1:{port}/v1/ordercore/events"
    with running_ordercore(ordercore_settings(database_url, down_url)) as core:
        order = core.create("down", order_body()).json()
        core.pay(order)
        wait_until(lambda: any(a >= 2 for _, a, _, _ in _outbox(ordercore_engine)), what="failed attempts")
        assert not any(done for _, _, done, _ in _outbox(ordercore_engine))
        # The receiver comes up: what was waiting arrives, in order.
        with CallbackReceiver(port=port) as receiver:
            events = receiver.wait_for_states(order["order_id"], ["created", "paid"])
    assert events[1]["order"]["payment"]["amount"] == "188.40"


def test_an_order_core_delivers_only_the_events_of_its_own_orders(
    ordercore_engine: Engine, database_url: str
) -> None:
    mine_settings: dict[str, Any] = {
        "payment_ttl_seconds": 60,
        "expiry_sweep_seconds": 3600,
    }  # sweeps once, at start-up
    other_settings: dict[str, Any] = {"payment_ttl_seconds": 60, "expiry_sweep_seconds": 0.1}
    clock = ManualClock()  # both order cores' and both receivers'
    with CallbackReceiver(clock=clock) as mine, CallbackReceiver(clock=clock) as theirs:
        with (
            running_ordercore(ordercore_settings(database_url, mine.url, **mine_settings), clock) as core,
            running_ordercore(ordercore_settings(database_url, theirs.url, **other_settings), clock) as other,
        ):
            order = core.create("mine", order_body()).json()
            other_order = other.create("theirs", order_body()).json()
            clock.advance(timedelta(seconds=60))
            # The other order core's sweep expires both orders; each callback goes to its own receiver.
            mine.wait_for_states(order["order_id"], ["created", "cancelled"])
            theirs.wait_for_states(other_order["order_id"], ["created", "cancelled"])
        assert mine.events_of(order["order_id"])[1]["order"]["cancel_reason"] == "expired"
        assert mine.events_of(other_order["order_id"]) == []
        assert theirs.events_of(order["order_id"]) == []
