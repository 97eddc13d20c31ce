"""Helpers for the partner-feed tests: stations with prices in the real database, a feed followed to
its end, a snapshot parsed, and a tiny HTTP receiver for webhooks (the partner's side: a third party,
faked at the transport)."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from sqlalchemy import Engine, text

import changelog
from access import partners
from geo.coords import CoordSystem
from geo.records import StationRecord
from partners.changes import read_feed
from partners.snapshot import snapshot_lines
from pricing import ladder
from tests.support import insert_records

FIXED = datetime.fromisoformat("2026-06-01T08:00:00+08:00")
KUNMING = (102.71, 25.04)


def stations(engine: Engine, n: int, adcode: str = "530102", brand: str = "sinopec") -> list[int]:
    records = [
        StationRecord(
            name=f"站{i}",
            brand=brand,
            lon=KUNMING[0] + i * 0.001,
            lat=KUNMING[1],
            adcode=adcode,
            grades=("92", "95"),
        )
        for i in range(n)
    ]
    return insert_records(engine, records)


def post_price(engine: Engine, station_id: int, price: str, at: datetime, grade: str = "92") -> None:
    update = ladder.PriceUpdate(
        station_id=station_id,
        grade=grade,
        tier="pump",
        price=Decimal(price),
        effective_from=at,
        source="test",
        confirmed_at=at,
    )
    (outcome,) = ladder.write_prices(engine, [update], now=at + timedelta(seconds=1))
    assert outcome.status != "rejected", outcome


def at_head(engine: Engine) -> str:
    with engine.connect() as conn:
        return changelog.cursor_at_head(conn)


def snapshot(engine: Engine, partner_id: int, coord: CoordSystem = CoordSystem.WGS84) -> list[dict[str, Any]]:
    body = b"".join(snapshot_lines(engine, partner_id, coord, FIXED))
    return [orjson.loads(line) for line in body.splitlines()]


def follow(
    engine: Engine, cursor: str, partner_id: int, limit: int = 500, coord: CoordSystem = CoordSystem.WGS84
) -> tuple[list[dict[str, Any]], str]:
    """Every feed item after `cursor`, page by page until nothing more."""
    items: list[dict[str, Any]] = []
    while True:
        page = read_feed(engine, cursor, partner_id, coord, limit)
        items += page.items
        if page.cursor == cursor and not page.items:
            return items, cursor
        cursor = page.cursor


def current_prices(engine: Engine) -> dict[int, dict[tuple[str, str], str]]:
    """Every station's prices in force, from the tables: {station: {(grade, tier): '7.89'}}."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id FROM stations"),
        ).all()
        out: dict[int, dict[tuple[str, str], str]] = {int(r[0]): {} for r in rows}
        for station_id, grade, tier, price in conn.execute(
            text("SELECT station_id, grade, tier, price FROM station_prices WHERE effective_to IS NULL")
        ):
            out[int(station_id)][(grade, tier)] = f"{Decimal(price):.2f}"
    return out


def state_of(station: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(p["grade"], p["tier"]): p["price"] for p in station["prices"]}


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner's webhook endpoint on a free local port: records every POST, answers `status`."""

    received: list[Received] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [orjson.loads(r.body) for r in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            with receiver.lock:
                receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.status
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def seqs(items: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(int(i["seq"]), int(i["station_id"])) for i in items]


ALL_SCOPES = ("stations:read", "prices:read", "waits:read", "feed:read", "webhooks:manage")


def partner_key(
    engine: Engine, name: str, coord: str = "wgs84", scopes: Sequence[str] = ALL_SCOPES
) -> tuple[int, dict[str, str]]:
    """A partner account without practical limits and the headers of one of its keys."""
    account = partners.create_partner(
        engine, name, coord=coord, rate_per_second=1000, burst=1000, daily_quota=None
    )
    token = partners.create_key(engine, account.partner_id, scopes).token
    return account.partner_id, {"Authorization": f"Bearer {token}"}
