"""Fixtures: the main service and the reference order core over real HTTP, and a priced station with
positions, a driver with points and a coupon."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from pricing import store
from pricing.ladder import PriceUpdate, write_prices
from pricing.money import Money
from pricing.offers import CouponTemplate
from pricing.rules import AmountOff, Conditions
from tests.api.test_nearby_features import KUNMING, station
from tests.checkout.support import Stack, running_stack
from tests.support import insert_records


@pytest.fixture(scope="package")
def stack(database_url: str, migrated_engine: Engine) -> Iterator[Stack]:
    """Stopped after this package: its order core's outbox sender and expiry sweep work on the shared
    `ordercore` schema and must not take the events of the order core's own tests."""
    with running_stack(database_url, migrated_engine) as running:
        yield running


@dataclass
class Shop:
    stack: Stack
    engine: Engine
    station_id: int

    def add_driver(self, driver_id: str, points: int = 0, coupons: int = 1) -> list[str]:
        with self.engine.begin() as conn:
            store.put_driver(conn, driver_id, member_level="gold", completed_orders=3, points_balance=points)
            return store.issue_coupons(conn, driver_id, "mj200", coupons) if coupons else []

    def quote(
        self, driver_id: str, amount: str = "300.00", grade: str = "92", use_points: bool = True
    ) -> dict[str, Any]:
        """A quote with the best coupons and (unlike the default of POST /v1/quotes) the driver's points."""
        body = {
            "station_id": self.station_id,
            "grade": grade,
            "fill": {"by_amount": amount},
            "use_points": use_points,
        }
        response = self.stack.main.client.post(
            "/v1/quotes", json=body, headers=self.stack.main.driver(driver_id)
        )
        assert response.status_code == 201, response.text
        quote: dict[str, Any] = response.json()
        return quote

    def checkout(
        self,
        token: str,
        key: str | None,
        driver_id: str = "d1",
        position: int = 1,
        nozzle: int = 1,
        client: httpx.Client | None = None,
    ) -> httpx.Response:
        headers = self.stack.main.driver(driver_id) | ({"Idempotency-Key": key} if key is not None else {})
        body = {"quote_token": token, "position": position, "nozzle": nozzle}
        return (client or self.stack.main.client).post("/v1/checkout", json=body, headers=headers)

    def checkout_row(self, checkout_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = (
                conn.execute(text("SELECT * FROM checkouts WHERE id = :id"), {"id": checkout_id})
                .mappings()
                .one()
            )
            return dict(row)

    def checkout_row_by_key(self, key: str, driver_id: str = "d1") -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    text("SELECT * FROM checkouts WHERE driver_id = :d AND idempotency_key = :k"),
                    {"d": driver_id, "k": key},
                )
                .mappings()
                .one()
            )
            return dict(row)

    def coupon(self, instance_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    text(
                        "SELECT state, reservation_ref, reserved_until, used_at FROM coupon_instances "
                        "WHERE id = :i"
                    ),
                    {"i": int(instance_id)},
                )
                .mappings()
                .one()
            )
            return dict(row)

    def points(self, driver_id: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT points_balance FROM drivers WHERE id = :d"), {"d": driver_id}
                ).scalar_one()
            )


@pytest.fixture
def shop(engine: Engine, stack: Stack) -> Shop:
    """One always-open station: position 1 nozzles 92, 95; position 2 nozzle 0#. 92# at 7.89 pump,
    7.59 platform; gold members 0.10/L off; coupon template 满200减20. Faults cleared, breaker closed, the
    stack's clock the machine's."""
    stack.clock.reset()
    [station_id] = insert_records(engine, [station("中国石化昆明站", 0, positions=(("92", "95"), ("0",)))])
    at = stack.clock.now() - timedelta(hours=1)
    write_prices(
        engine,
        [
            PriceUpdate(station_id, "92", "pump", Decimal("7.89"), at, "test"),
            PriceUpdate(station_id, "92", "platform", Decimal("7.59"), at, "test"),
        ],
        now=at,
    )
    with engine.begin() as conn:
        store.set_member_level(conn, "gold", {None: Decimal("0.10")})
        template = CouponTemplate(
            "mj200", AmountOff(Money.of("200"), Money.of("20")), Conditions(), name="满200减20"
        )
        store.save_template(conn, template, create=True)
    stack.clear_faults()
    stack.service.client.breaker.record_success()
    stack.main.wait_for_catalogue()
    stack.main.wait_for_changes()  # the prices too, not only the station (under load they came later)
    return Shop(stack, engine, station_id)


__all__ = ["KUNMING", "Shop"]
