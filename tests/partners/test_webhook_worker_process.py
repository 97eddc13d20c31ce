"""`python -m partners.webhook_worker` as bin/run runs it: its own process, following the change log from
its stored cursor, delivering to a real local receiver, ending on SIGTERM with a summary."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from geo.coords import CoordSystem
from partners import subscriptions
from tests.partners.conftest import ME
from tests.partners.support import FIXED, Receiver, post_price, stations

ROOT = Path(__file__).resolve().parents[2]


def _until(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_the_worker_process_delivers_and_stops_with_a_summary(
    feed_engine: Engine, receiver: Receiver, database_url: str
) -> None:
    (station,) = stations(feed_engine, 1)
    new = subscriptions.NewSubscription(receiver.url, CoordSystem.GCJ02, None, [], [], ["pump"], Decimal("0"))
    with feed_engine.begin() as conn:
        subscriptions.create(conn, ME, new, FIXED)
    worker = subprocess.Popen(
        [sys.executable, "-m", "partners.webhook_worker", "--database-url", database_url, "--every", "0.2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The worker starts at the head: wait until it stored its cursor, then change a price.
        def started() -> bool:
            with feed_engine.connect() as conn:
                return conn.execute(text("SELECT cursor FROM webhook_cursor")).scalar() is not None

        assert _until(started, 30)
        post_price(feed_engine, station, "7.66", FIXED)
        assert _until(lambda: len(receiver.received) == 1, 30), "no delivery"
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
    (body,) = receiver.bodies()
    assert body["price"] == "7.66" and body["station"]["coord"] == "gcj02"
    assert "webhooks: stopped; " in err and "1 deliveries enqueued" in err and "1 delivered" in err
