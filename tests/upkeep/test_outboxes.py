"""Pruning: delivered order-core outbox events past their retention (never an undelivered one), applied
order-core callbacks of final checkouts only, old position claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from tests.occupancy.support import forecourt_station
from tests.support import insert_records
from upkeep.outboxes import prune_ordercore_events, prune_ordercore_outbox, prune_position_claims

NOW = datetime(2026, 12, 20, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _order(conn: Any, order_id: str) -> None:
    conn.execute(
        text(
            "INSERT INTO ordercore.orders (id, idempotency_key, request_sha256, state, station_id, position, "
            "nozzle, grade, fill_kind, list_amount, payable, currency, driver_id, quote_id, quote_token, "
            "verification_code, expires_at, callback_url) VALUES (:id, :id, 'x', 'completed', 1, 1, 1, "
            "'92', 'amount', 300, 300, 'CNY', 'd', 'q', 't', '123456', :now, 'http://x')"
        ),
        {"id": order_id, "now": NOW},
    )


def test_delivered_outbox_events_past_the_retention_go_undelivered_ones_stay(
    ordercore_engine: Engine,
) -> None:
    events = {  # event id: (created, delivered)
        "old-delivered": (NOW - 30 * DAY, NOW - 29 * DAY),
        "old-undelivered": (NOW - 30 * DAY, None),  # retried for a month: still owed
        "recent-delivered": (NOW - 2 * DAY, NOW - 2 * DAY),
        "delivered-8-days-ago": (NOW - 9 * DAY, NOW - 8 * DAY),
    }
    with ordercore_engine.begin() as conn:
        _order(conn, "ord_1")
        for event_id, (created, delivered) in events.items():
            conn.execute(
                text(
                    "INSERT INTO ordercore.outbox (event_id, order_id, target_url, body, created_at, "
                    "delivered_at) VALUES (:e, 'ord_1', 'http://x', '{}', :c, :d)"
                ),
                {"e": event_id, "c": created, "d": delivered},
            )
    assert prune_ordercore_outbox(ordercore_engine, NOW, 7 * DAY, batch=1) == 2
    with ordercore_engine.connect() as conn:
        left = conn.execute(text("SELECT event_id FROM ordercore.outbox ORDER BY event_id")).scalars().all()
    assert left == ["old-undelivered", "recent-delivered"]
    assert prune_ordercore_outbox(ordercore_engine, NOW + 365 * DAY, 7 * DAY) == 1
    with ordercore_engine.connect() as conn:
        left = conn.execute(text("SELECT event_id FROM ordercore.outbox")).scalars().all()
    assert left == ["old-undelivered"]


def _checkout(conn: Any, checkout_id: str, order_id: str, state: str) -> None:
    conn.execute(
        text(
            "INSERT INTO checkouts (id, driver_id, idempotency_key, request_sha256, quote_id, station_id, "
            "position, nozzle, grade, payable, currency, state, order_id) VALUES "
            "(:id, 'driver', :id, 'x', 'q', 1, 1, 1, '92', 300, 'CNY', :state, :order)"
        ),
        {"id": checkout_id, "state": state, "order": order_id},
    )


def test_applied_callbacks_go_only_when_old_and_their_checkout_is_final(engine: Engine) -> None:
    with engine.begin() as conn:
        _checkout(conn, "co_done", "ord_done", "completed")
        _checkout(conn, "co_paid", "ord_paid", "paid")  # still live: a late redelivery must stay a duplicate
        events = [
            ("e1", "ord_done", NOW - 40 * DAY),
            ("e2", "ord_done", NOW - 10 * DAY),  # final, but within 30 days
            ("e3", "ord_paid", NOW - 40 * DAY),
            ("e4", "ord_gone", NOW - 40 * DAY),  # no checkout of ours
        ]
        for event_id, order_id, received in events:
            conn.execute(
                text(
                    "INSERT INTO ordercore_events (event_id, order_id, state, received_at) "
                    "VALUES (:e, :o, 'paid', :r)"
                ),
                {"e": event_id, "o": order_id, "r": received},
            )
    assert prune_ordercore_events(engine, NOW, 30 * DAY, batch=1) == 2
    with engine.connect() as conn:
        left = conn.execute(text("SELECT event_id FROM ordercore_events ORDER BY 1")).scalars().all()
        checkouts = conn.execute(text("SELECT count(*) FROM checkouts")).scalar_one()
    assert left == ["e2", "e3"] and checkouts == 2


def test_position_claims_older_than_the_retention_go(engine: Engine) -> None:
    (sid,) = insert_records(engine, [forecourt_station()])
    with engine.begin() as conn:
        for ref, age in (("old", 16 * DAY), ("recent", 14 * DAY)):
            conn.execute(
                text("INSERT INTO position_claims (station_id, position, ref, ts) VALUES (:s, 1, :r, :t)"),
                {"s": sid, "r": ref, "t": NOW - age},
            )
    assert prune_position_claims(engine, NOW, 15 * DAY) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT ref FROM position_claims")).scalars().all() == ["recent"]
