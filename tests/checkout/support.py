"""The two real services over HTTP for checkout tests: the main app and the reference order core, each
served by uvicorn in a thread on ports chosen up front (each names the other: order-core URL, callback URL).
The order core can be stopped and started again on its port (the "order core is down" tests). Both read the
time from one ManualClock, the stack's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine

from api.app import create_app
from api.settings import Settings
from checkout.service import CheckoutService
from ordercore.app import create_app as create_ordercore
from ordercore.migrate import upgrade as upgrade_ordercore
from ordercore.settings import OrdercoreSettings
from tests.support import LiveServer, ThreadServer, free_port
from timekeeping.clock import ManualClock

CORE_TOKEN = "test-ordercore-token"
CALLBACK_SECRET = "test-callback-secret"
# What the main service is told about the order core in these tests: a 2 s read timeout (a held create
# waits until the test clears the faults), 2 attempts per call, a breaker opening after 4 failed attempts
# for 60 s of the stack's clock (a test moves the clock on rather than waiting).
READ_TIMEOUT_S = 2.0
BREAKER_COOLDOWN_S = 60.0
MAIN_OVERRIDES: dict[str, Any] = {
    "index_refresh_seconds": 0.1,
    "ordercore_token": CORE_TOKEN,
    "ordercore_callback_secret": CALLBACK_SECRET,
    "ordercore_connect_timeout": 0.5,
    "ordercore_read_timeout": READ_TIMEOUT_S,
    "ordercore_attempts": 2,
    "ordercore_backoff_seconds": 0.05,
    "ordercore_breaker_threshold": 4,
    "ordercore_breaker_cooldown_seconds": BREAKER_COOLDOWN_S,
    "checkout_sweep_seconds": 0.3,
}


@dataclass
class Stack:
    main: LiveServer
    main_server: ThreadServer
    core: httpx.Client
    core_server: ThreadServer
    clock: ManualClock

    @property
    def service(self) -> CheckoutService:
        assert self.main_server.app is not None
        service: CheckoutService = self.main_server.app.state.services.checkout
        return service

    def orders_by_key(self, key: str) -> list[dict[str, Any]]:
        response = self.core.get("/v1/orders", params={"idempotency_key": key})
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def set_faults(self, **faults: Any) -> None:
        response = self.core.post("/sandbox/faults", json=faults)
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        assert self.core.delete("/sandbox/faults").status_code == 204


@contextmanager
def running_stack(database_url: str, engine: Engine) -> Iterator[Stack]:
    upgrade_ordercore(database_url)
    main_port, core_port = free_port(), free_port()
    core_settings = OrdercoreSettings.model_validate(
        {
            "database_url": database_url,
            "port": core_port,
            "api_token": CORE_TOKEN,
            "callback_url": f"http://127.0.0.1:{main_port}/v1/ordercore/events",
            "callback_secret": CALLBACK_SECRET,
            "callback_backoff_base_seconds": 0.1,
            "callback_backoff_cap_seconds": 1.0,
            "outbox_poll_seconds": 0.05,
            "mode": "development",
            "sandbox_admin": True,  # the fault tests inject faults
        }
    )
    main_settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "ordercore_url": f"http://127.0.0.1:{core_port}", **MAIN_OVERRIDES}
    )
    clock = ManualClock()
    core_server = ThreadServer(lambda: create_ordercore(core_settings, clock), core_port)
    main_server = ThreadServer(lambda: create_app(main_settings, clock), main_port)
    core_server.start()
    main_server.start()
    core = httpx.Client(
        base_url=f"http://127.0.0.1:{core_port}",
        timeout=10,
        headers={"Authorization": f"Bearer {CORE_TOKEN}"},
    )
    main = LiveServer(f"http://127.0.0.1:{main_port}", engine, clock)
    try:
        yield Stack(main, main_server, core, core_server, clock)
    finally:
        core.close()
        main.client.close()
        main_server.stop()
        core_server.stop()
