"""Webhooks end to end below HTTP: price changes in the real database become signed deliveries to a real
local receiver, in order per station, retried with exponential backoff on the test's clock, the
subscription disabled after N consecutive failures, and a replay from a cursor that resumes it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

from geo.coords import CoordSystem
from partners import poi, subscriptions
from partners.delivery import Policy, backoff, deliver_round
from partners.price_events import enqueue_step, replay
from partners.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from partners.webhook_worker import Totals, catch_up
from tests.partners.conftest import ME, OTHER
from tests.partners.support import FIXED, Receiver, at_head, post_price, stations
from timekeeping.clock import ManualClock

POLICY = Policy(base_backoff_s=10, max_backoff_s=600, max_failures=3, timeout_s=5)


def subscribe(
    engine: Engine, url: str, partner: int = ME, threshold: str = "0", **filters: object
) -> tuple[int, str]:
    new = subscriptions.NewSubscription(
        url=url,
        coord=CoordSystem.WGS84,
        adcode=filters.get("adcode"),  # type: ignore[arg-type]
        brands=filters.get("brands", []),  # type: ignore[arg-type]
        grades=filters.get("grades", []),  # type: ignore[arg-type]
        tiers=["pump"],
        threshold=Decimal(threshold),
    )
    with engine.begin() as conn:
        sub, secret = subscriptions.create(conn, partner, new, FIXED)
    return sub.id, secret


def enqueue_all(engine: Engine, clock: ManualClock) -> Totals:
    totals = Totals()
    assert catch_up(engine, clock, totals)
    return totals


def start_worker(engine: Engine, clock: ManualClock) -> None:
    """The worker's cursor at the head, as a worker started now."""
    enqueue_all(engine, clock)


def test_a_price_change_is_delivered_signed_with_the_partners_own_poi_id(
    feed_engine: Engine, receiver: Receiver
) -> None:
    clock = ManualClock(FIXED)
    ids = stations(feed_engine, 2)
    with feed_engine.begin() as conn:
        poi.attach(conn, ME, ids[0], "amap-1")
        poi.attach(conn, OTHER, ids[0], "tencent-1")
    post_price(feed_engine, ids[0], "7.80", FIXED)
    _, secret = subscribe(feed_engine, receiver.url, threshold="0.05")
    start_worker(feed_engine, clock)
    post_price(feed_engine, ids[0], "7.90", FIXED + timedelta(hours=1))  # +0.10: over the threshold
    post_price(feed_engine, ids[0], "7.92", FIXED + timedelta(hours=2))  # +0.02: under it
    post_price(feed_engine, ids[1], "7.50", FIXED + timedelta(hours=2))  # a first price: always news
    assert enqueue_all(feed_engine, clock).enqueued == 2
    done = deliver_round(feed_engine, clock.now(), POLICY)
    assert (done.attempted, done.delivered) == (2, 2)
    by_station = {b["station"]["id"]: b for b in receiver.bodies()}
    first = by_station[ids[0]]
    assert (first["price"], first["previous_price"], first["change"]) == ("7.90", "7.80", "0.10")
    assert first["station"]["poi_id"] == "amap-1"  # never the other partner's id
    assert by_station[ids[1]]["previous_price"] is None
    for r in receiver.received:
        assert verify(
            secret,
            r.headers[TIMESTAMP_HEADER.lower()],
            r.headers[SIGNATURE_HEADER.lower()],
            r.body,
            clock.now().timestamp(),
        )
        assert not verify(
            "whsec_wrong",
            r.headers[TIMESTAMP_HEADER.lower()],
            r.headers[SIGNATURE_HEADER.lower()],
            r.body,
            clock.now().timestamp(),
        )
        assert int(r.headers[TIMESTAMP_HEADER.lower()]) == int(clock.now().timestamp())
    assert deliver_round(feed_engine, clock.now(), POLICY).attempted == 0  # delivered once


def test_filters_region_brand_and_grade(feed_engine: Engine, receiver: Receiver) -> None:
    clock = ManualClock(FIXED)
    kunming = stations(feed_engine, 1, adcode="530102", brand="sinopec")
    beijing = stations(feed_engine, 1, adcode="110101", brand="sinopec")
    shell = stations(feed_engine, 1, adcode="530111", brand="shell")
    subscribe(feed_engine, receiver.url, adcode="530100", brands=["sinopec"], grades=["92"])
    start_worker(feed_engine, clock)
    for station in (*kunming, *beijing, *shell):
        post_price(feed_engine, station, "7.70", FIXED)
    post_price(feed_engine, kunming[0], "8.30", FIXED, grade="95")
    enqueue_all(feed_engine, clock)
    deliver_round(feed_engine, clock.now(), POLICY)
    assert [(b["station"]["id"], b["grade"]) for b in receiver.bodies()] == [(kunming[0], "92")]


def test_failures_back_off_keep_station_order_disable_and_replay_resumes(
    feed_engine: Engine, receiver: Receiver
) -> None:
    clock = ManualClock(FIXED)
    (station,) = stations(feed_engine, 1)
    sub_id, _ = subscribe(feed_engine, receiver.url)
    start_worker(feed_engine, clock)
    before = at_head(feed_engine)
    for i, price in enumerate(("7.10", "7.20", "7.30")):
        post_price(feed_engine, station, price, FIXED + timedelta(hours=i))
    enqueue_all(feed_engine, clock)
    receiver.status = 503
    assert deliver_round(feed_engine, clock.now(), POLICY).failed == 1  # only the station's first event
    assert [b["price"] for b in receiver.bodies()] == ["7.10"]
    assert deliver_round(feed_engine, clock.now(), POLICY).attempted == 0  # backing off
    clock.advance(backoff(POLICY, 1) - timedelta(seconds=1))
    assert deliver_round(feed_engine, clock.now(), POLICY).attempted == 0
    clock.advance(timedelta(seconds=1))
    assert deliver_round(feed_engine, clock.now(), POLICY).failed == 1
    assert backoff(POLICY, 2) == 2 * backoff(POLICY, 1)
    clock.advance(backoff(POLICY, 2))
    third = deliver_round(feed_engine, clock.now(), POLICY)
    assert (third.failed, third.disabled) == (1, 1)  # the third consecutive failure disables it
    with feed_engine.connect() as conn:
        sub = subscriptions.one(conn, ME, sub_id)
    assert not sub.active and sub.consecutive_failures == 3 and sub.pending == 3
    clock.advance(timedelta(hours=2))
    assert deliver_round(feed_engine, clock.now(), POLICY).attempted == 0  # disabled: nothing sent
    post_price(feed_engine, station, "7.40", FIXED + timedelta(hours=5))
    assert enqueue_all(feed_engine, clock).enqueued == 0  # a disabled subscription gets nothing new
    receiver.status = 200
    receiver.received.clear()
    with feed_engine.begin() as conn:
        done = replay(conn, sub_id, before, clock.now(), 10_000)
        subscriptions.reactivate(conn, sub_id, clock.now())
    assert done.deliveries == 1  # 7.40 (the three pending are not enqueued twice)
    while deliver_round(feed_engine, clock.now(), POLICY).attempted:
        pass
    assert [b["price"] for b in receiver.bodies()] == ["7.10", "7.20", "7.30", "7.40"]  # commit order
    with feed_engine.connect() as conn:
        assert subscriptions.one(conn, ME, sub_id).active
        states = conn.execute(text("SELECT state, count(*) FROM webhook_deliveries GROUP BY state")).all()
    assert dict(states) == {"delivered": 4}


def test_the_worker_enqueues_each_change_once_across_restarts(
    feed_engine: Engine, receiver: Receiver
) -> None:
    clock = ManualClock(FIXED)
    ids = stations(feed_engine, 3)
    subscribe(feed_engine, receiver.url)
    start_worker(feed_engine, clock)
    for i, station in enumerate(ids):
        post_price(feed_engine, station, f"7.{i + 1}0", FIXED)
    with feed_engine.begin() as conn:
        first = enqueue_step(conn, clock.now(), limit=2)  # part of the log, then "restart"
    assert first.changes == 2
    enqueue_all(feed_engine, clock)
    while deliver_round(feed_engine, clock.now(), POLICY).attempted:
        pass
    assert sorted(b["station"]["id"] for b in receiver.bodies()) == ids
    assert len({b["event_id"] for b in receiver.bodies()}) == 3
