"""Test support for the reference order core, reusable by any test (checkout's too):

- `ordercore_migrated` (session) / `ordercore_engine` (per test, tables emptied): pytest fixtures; import
  them into a conftest.py to use them.
- `running_ordercore(settings)`: the real order core app over real HTTP (uvicorn thread, free port).
- `CallbackReceiver`: a tiny HTTP server that verifies X-Ordercore-Signature and records the events; it can
  answer 500 to the first N deliveries.
- `order_body(...)`: a valid CreateOrder body. `Contract`: validates bodies against the OpenAPI document.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
import yaml
from sqlalchemy import Engine, text

from db.engine import make_engine
from ordercore import signing
from ordercore.app import create_app
from ordercore.migrate import upgrade
from ordercore.settings import OrdercoreSettings
from tests.support import ThreadServer, wait_until
from timekeeping.clock import Clock, ManualClock, SystemClock

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "contracts" / "ordercore.openapi.yaml"
ORDERCORE_TABLES = (
    "ordercore.outbox, ordercore.invoice_requests, ordercore.order_transitions, ordercore.orders"
)
API_TOKEN = "test-ordercore-token"
CALLBACK_SECRET = "test-callback-secret"


# --- database ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ordercore_migrated(database_url: str) -> Iterator[Engine]:
    """The database with the ordercore schema migrated by its own Alembic environment."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ordercore_engine(ordercore_migrated: Engine) -> Engine:
    """The migrated ordercore schema with its tables emptied (no order core of another test may run)."""
    truncate_ordercore(ordercore_migrated)
    return ordercore_migrated


def truncate_ordercore(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {ORDERCORE_TABLES} RESTART IDENTITY CASCADE"))


# --- the order core over HTTP -------------------------------------------------------------------------------


def ordercore_settings(database_url: str, callback_url: str, **overrides: Any) -> OrdercoreSettings:
    """Settings for a test order core: fast polling and backoff, test token and secret."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "api_token": API_TOKEN,
        "callback_url": callback_url,
        "callback_secret": CALLBACK_SECRET,
        "callback_backoff_base_seconds": 0.1,
        "callback_backoff_cap_seconds": 1.0,
        "callback_timeout_seconds": 2.0,
        "outbox_poll_seconds": 0.05,
        "expiry_sweep_seconds": 0.2,
        "db_pool_size": 3,
        "mode": "development",
        "sandbox_admin": True,
    }
    values.update(overrides)
    return OrdercoreSettings.model_validate(values)


class OrdercoreServer:
    def __init__(self, base_url: str, settings: OrdercoreSettings, clock: ManualClock) -> None:
        self.base_url = base_url
        self.settings = settings
        self.clock = clock  # the order core's clock: the test sets and advances it
        token = settings.api_token.get_secret_value()
        self.client = httpx.Client(
            base_url=base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )

    def create(self, key: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post("/v1/orders", json=body, headers={"Idempotency-Key": key})

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(path, json=body)

    def pay(self, order: dict[str, Any]) -> httpx.Response:
        return self.post(
            f"/v1/orders/{order['order_id']}/pay", {"method": "sandbox", "amount": order["payable"]}
        )

    def redeem(self, station_id: int, code: str) -> httpx.Response:
        return self.post("/v1/attendant/redeem", {"station_id": station_id, "code": code})

    def complete(self, order: dict[str, Any], amount: str | None = None) -> httpx.Response:
        body = {"litres": order["litres"], "amount": amount or order["payable"]}
        return self.post(f"/v1/orders/{order['order_id']}/complete", body)

    def set_faults(self, **faults: Any) -> httpx.Response:
        return self.post("/sandbox/faults", faults)

    def clear_faults(self) -> httpx.Response:
        return self.client.delete("/sandbox/faults")


@contextmanager
def running_ordercore(
    settings: OrdercoreSettings, clock: ManualClock | None = None
) -> Iterator[OrdercoreServer]:
    """The real order core app (its background sender and sweep included) on a free port, reading the
    time from `clock` (a new ManualClock by default)."""
    clock = clock or ManualClock()
    server = ThreadServer(lambda: create_app(settings, clock))
    server.start()
    live = OrdercoreServer(server.base_url, settings, clock)
    try:
        yield live
    finally:
        live.client.close()
        server.stop()


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "quote_id": "q-1",
        "quote_token": "token-1",
        "station_id": 7,
        "position": 2,
        "nozzle": 1,
        "grade": "95",
        "fill": {"kind": "amount", "value": "200.00"},
        "litres": "26.12",
        "list_amount": "210.00",
        "payable": "188.40",
        "currency": "CNY",
        "coupons": ["17"],
        "points_used": 100,
        "driver_id": "d-1",
    }
    body.update(overrides)
    return body


# --- the callback receiver ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    event: dict[str, Any]
    body: bytes  # as received (the signature covers these bytes)
    signature: str
    status: int  # what the receiver answered


class CallbackReceiver:
    """Receives the order core's callbacks: 401 on a bad signature (or one too old by `clock`, the order
    core's), 500 to the first `fail_first` well-signed deliveries, 200 afterwards. `events` are the accepted
    ones, first delivery of each event_id."""

    def __init__(
        self, secret: str = CALLBACK_SECRET, fail_first: int = 0, port: int = 0, clock: Clock | None = None
    ) -> None:
        self.secret = secret.encode()
        self.clock = clock or SystemClock()
        self.fail_first = fail_first
        self.deliveries: list[Delivery] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/ordercore/events"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.receive(self.headers.get(signing.HEADER), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def receive(self, signature: str | None, body: bytes) -> int:
        try:
            signing.verify(self.secret, signature, body, self.clock.now().timestamp())
        except signing.BadSignature as exc:
            with self._lock:
                self.rejected.append(str(exc))
            return 401
        with self._lock:
            status = 500 if self.fail_first > 0 else 200
            self.fail_first -= status == 500
            self.deliveries.append(Delivery(orjson.loads(body), body, signature or "", status))
            return status

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            seen: set[str] = set()
            out = []
            for d in self.deliveries:
                if d.status == 200 and d.event["event_id"] not in seen:
                    seen.add(d.event["event_id"])
                    out.append(d.event)
            return out

    def events_of(self, order_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["order_id"] == order_id]

    def wait_for_states(
        self, order_id: str, states: list[str], timeout: float = 15.0
    ) -> list[dict[str, Any]]:
        """The order's accepted events once their states are exactly `states` (in this order)."""
        wait_until(lambda: len(self.events_of(order_id)) >= len(states), f"callbacks {states}", timeout)
        events = self.events_of(order_id)
        assert [e["state"] for e in events] == states
        return events

    def __enter__(self) -> CallbackReceiver:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- the contract -------------------------------------------------------------------------------------------


class Contract:
    """contracts/ordercore.openapi.yaml, and validation of bodies against its schemas and responses."""

    def __init__(self, path: Path = CONTRACT) -> None:
        self.doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))

    def _validator(self, ref: str) -> jsonschema.Draft202012Validator:
        # The whole document is the root schema, so that "#/components/..." references resolve.
        schema = {k: v for k, v in self.doc.items() if k != "$ref"} | {"$ref": ref}
        return jsonschema.Draft202012Validator(schema)

    def validate(self, instance: Any, schema_name: str) -> None:
        self._validator(f"#/components/schemas/{schema_name}").validate(instance)

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def operations(self) -> set[tuple[str, str]]:
        methods = {"get", "post", "put", "patch", "delete"}
        return {(m.upper(), p) for p, item in self.doc["paths"].items() for m in item if m in methods}

    def validate_response(self, method: str, path_template: str, response: httpx.Response) -> None:
        """The response's status is documented for this operation and its body matches the schema."""
        operation = self.doc["paths"][path_template][method.lower()]
        documented = operation["responses"]
        key = str(response.status_code)
        assert key in documented, f"{method} {path_template}: status {key} not in the contract"
        spec = self._resolve(documented[key])
        content = spec.get("content")
        if not content:
            assert not response.content, f"{method} {path_template} {key}: body where the contract has none"
            return
        media_type = response.headers["content-type"].split(";")[0]
        assert media_type in content, f"{method} {path_template} {key}: {media_type} not in the contract"
        pointer = f"#/paths/{_escape(path_template)}/{method.lower()}/responses/{key}"
        if "$ref" in documented[key]:
            pointer = documented[key]["$ref"]
        pointer += f"/content/{_escape(media_type)}/schema"
        self._validator(pointer).validate(response.json())


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
