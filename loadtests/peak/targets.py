"""Latency targets per route (p99 over a run, milliseconds) and where each comes from: one table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    route: str  # the name the scenarios report the request under
    p99_ms: float | None  # None: reported, not judged (a stream's duration is its size, not a latency)
    source: str


TARGETS: tuple[Target, ...] = (
    Target("GET /v1/stations/nearby", 25.0, "issue 16 (nearby/viewport p99 25 ms at peak)"),
    Target("GET /v1/stations (viewport)", 25.0, "issue 14 (viewport at any zoom p99 < 25 ms)"),
    Target("GET /v1/tiles/{z}/{x}/{y}.mvt", 25.0, "issue 14 (tiles at least nearby's throughput)"),
    Target("GET /v1/stations/{id}/wait", 20.0, "issue 13 (/wait p99 < 20 ms)"),
    Target("POST /v1/route/stations", 50.0, "issue 14 (corridor p99 < 50 ms)"),
    Target("GET /v1/prices/compare", 25.0, "set here: a list view, as nearby"),
    Target("GET /v1/stations/{id}", 25.0, "set here: the detail screen, as nearby"),
    Target("POST /v1/quotes", 50.0, "set here: one database write"),
    Target("POST /v1/checkout", 300.0, "set here: a write and a call to the order core"),
    Target("POST /v1/me/orders/{id}/payment", 100.0, "set here: a call to the order core"),
    Target("GET /v1/me/orders/{id}", 50.0, "set here: a read and a call to the order core"),
    Target("POST core /sandbox/wxpay/pay", 100.0, "set here: the reference order core"),
    Target("POST core /v1/attendant/redeem", 100.0, "set here: the reference order core"),
    Target("POST core /v1/orders/{id}/complete", 100.0, "set here: the reference order core"),
    Target("POST /v1/occupancy/events", 100.0, "set here: one transaction per batch"),
    Target("PUT /v1/stations/{id}/prices", 100.0, "set here: one transaction per post"),
    Target("PUT /v1/operator/coupon-templates/{id}", 200.0, "set here: an operator's change"),
    Target("GET /v1/partner/snapshot", None, "reported only: a stream of every station"),
    Target("GET /v1/partner/changes", 1000.0, "issue 15 (feed freshness p99 < 1 s)"),
)
BY_ROUTE = {t.route: t for t in TARGETS}


def target_of(route: str) -> Target | None:
    return BY_ROUTE.get(route)
