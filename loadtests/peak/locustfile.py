"""The holiday-morning scenarios (locust FastHttpUser) and the peak profile (LoadTestShape).

Run by `python -m loadtests.peak` (which writes the plan and sets PEAK_* in the environment), never by hand:

- Driver: a map screen (viewport in GCJ-02 and two vector tiles) → nearby with prices, the driver's
  effective price and waits → the chosen station's wait and detail → for a share of journeys a quote →
  checkout → WeChat payment (the order core's sandbox) → the attendant redeems the code → complete.
- PriceComparer: compare by total cost with waits; RoadTripper: stations along a route between two cities.
- StationSystem (one per planned station, with its credential): forecourt event batches every 2 s from
  demodata.forecourt_sim at that station's own positions and nozzles (per-nozzle rates of a morning), and a
  price post every minute or so.
- Operator: changes a coupon template's amount every 15 s (each change goes through the change log).
- PartnerFeed (only when the service's /openapi.json has the partner snapshot and change feed): the snapshot,
  then the change feed from its cursor.

Every user is seeded from (seed, its spawn index); every loop is bounded in count and by the run's deadline;
the targets are loopback only (the command refuses any other).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import time
import zlib
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, LoadTestShape, between, constant_pacing, events, task
from locust.exception import StopUser

from access.driver_tokens import DriverTokenKeys, mint
from demodata.forecourt_sim import Delivery, Peak, StationSpec, simulate
from geo.coords import wgs84_to_gcj02
from loadtests.peak.plan import Centre, distance_m, read_plan
from loadtests.peak.profile import stage_at
from loadtests.peak.recorder import Recorder
from loadtests.peak.run_config import RunConfig
from occupancy.events import NozzleEvent, PositionLayout
from occupancy.wire import NDJSON, ndjson_body

CONFIG = RunConfig.from_environ()
PLAN = read_plan(CONFIG.plan)
RECORDER = Recorder(CONFIG.window_s, CONFIG.warmup_s)
_SPAWNED = itertools.count()
_STARTED = time.monotonic()
DEADLINE = _STARTED + CONFIG.duration_s + 5.0
MAX_JOURNEYS = 10_000  # per user: a bound on every loop besides the deadline
GRADE = "92"
SEQ_PER_RUN_SECOND = 1000
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


def _on_test_start(environment: Any, **_: Any) -> None:
    host = environment.host or ""
    if not _loopback(host) or not _loopback(CONFIG.ordercore_url):
        raise SystemExit(f"refusing non-loopback targets {host} {CONFIG.ordercore_url}")
    RECORDER.start(time.time())


def _on_request(
    request_type: str, name: str, response_time: float, exception: BaseException | None, **_: Any
) -> None:
    RECORDER.request(time.time(), name, float(response_time), None if exception is None else repr(exception))


events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]
events.request.add_listener(_on_request)  # type: ignore[no-untyped-call]
_WRITTEN = False


def _on_quitting(**_: Any) -> None:
    global _WRITTEN
    if not _WRITTEN:
        RECORDER.write(CONFIG.out)
        _WRITTEN = True


events.quitting.add_listener(_on_quitting)  # type: ignore[no-untyped-call]


def _past_deadline() -> bool:
    return time.monotonic() > DEADLINE


def _point(rng: random.Random, centre: Centre, spread_m: float = 8000.0) -> tuple[float, float]:
    """A WGS-84 point within `spread_m` of the centre (uniform over the disc)."""
    r = spread_m * math.sqrt(rng.random())
    bearing = rng.random() * 2.0 * math.pi
    lat = centre.lat + r * math.cos(bearing) / 111_320.0
    lon = centre.lon + r * math.sin(bearing) / (111_320.0 * math.cos(math.radians(centre.lat)))
    return lon, lat


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


class _Seeded(FastHttpUser):
    abstract = True
    network_timeout = 10.0
    connection_timeout = 5.0

    def on_start(self) -> None:
        self.index = next(_SPAWNED)
        self.rng = random.Random(CONFIG.seed * 1_000_003 + self.index)
        self.loops = 0

    def _next_loop(self) -> None:
        self.loops += 1
        if self.loops > MAX_JOURNEYS or _past_deadline():
            raise StopUser()

    def _think(self, low: float, high: float) -> None:
        time.sleep(min(self.rng.uniform(low, high), max(0.0, DEADLINE - time.monotonic())))

    def _get(self, path: str, name: str, query: dict[str, Any] | None = None, **kw: Any) -> Any:
        """GET; the parsed JSON body on 200, else None (the request is marked failed)."""
        url = f"{path}?{urlencode(query)}" if query else path
        with self.client.get(url, name=name, catch_response=True, **kw) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {(response.text or '')[:120]}")
                return None
            response.success()
            # NDJSON (the snapshot) is returned as bytes: response.json() would raise on its second line
            media = (response.headers.get("content-type") or "").split(";")[0].strip()
            if media == "application/json" or media.endswith("+json"):
                return response.json()
            return response.content

    def _send(
        self, method: str, url: str, name: str, body: Any, ok: tuple[int, ...], **kw: Any
    ) -> tuple[int, Any]:
        with self.client.request(method, url, name=name, json=body, catch_response=True, **kw) as response:
            status = int(response.status_code or 0)
            if status not in ok:
                response.failure(f"status {status}: {(response.text or '')[:120]}")
                return status, None
            response.success()
            try:
                return status, response.json()
            except ValueError:
                return status, None


class Driver(_Seeded):
    """The mini-program on a holiday morning: map, list, station, and sometimes an order paid by WeChat."""

    weight = 70
    wait_time = between(2.0, 6.0)  # between journeys

    def on_start(self) -> None:
        super().on_start()
        self.driver_id = f"peak-{CONFIG.seed}-{self.index}"
        token = mint(DriverTokenKeys(CONFIG.driver_key.encode()), self.driver_id, _now(), 6 * 3600)
        self.me = {"Authorization": f"Bearer {token}"}
        self.core = {"Authorization": f"Bearer {CONFIG.ordercore_token}"}

    @task
    def journey(self) -> None:
        self._next_loop()
        centre = self.rng.choice(PLAN.centres)
        lon, lat = wgs84_to_gcj02(*_point(self.rng, centre))
        box = f"{lon - 0.02:.6f},{lat - 0.015:.6f},{lon + 0.02:.6f},{lat + 0.015:.6f}"
        self._get(
            "/v1/stations",
            "GET /v1/stations (viewport)",
            {"bbox": box, "zoom": 14, "coord": "gcj02", "grade": GRADE, "prices": "true"},
        )
        x, y = _tile(lon, lat, 14)
        for dx in (0, 1):
            self._get(f"/v1/tiles/14/{x + dx}/{y}.mvt", "GET /v1/tiles/{z}/{x}/{y}.mvt", {"coord": "gcj02"})
        self._think(0.5, 2.0)
        found = self._get(
            "/v1/stations/nearby",
            "GET /v1/stations/nearby",
            {
                "lat": f"{lat:.6f}",
                "lon": f"{lon:.6f}",
                "coord": "gcj02",
                "grade": GRADE,
                "prices": "true",
                "effective": "true",
                "wait": "true",
                "radius_m": 5000,
                "limit": 20,
            },
            headers=self.me,
        )
        items = (found or {}).get("items") or []
        if not items:
            return
        ids = [int(i["id"]) for i in items]
        priced = [int(i["id"]) for i in items if i.get("effective")]  # null: no fresh price, no order there
        station = next((i for i in priced if i in PLAN.layouts), None) or self.rng.choice(ids)
        self._think(0.5, 2.0)
        self._get(f"/v1/stations/{station}/wait", "GET /v1/stations/{id}/wait", {"grade": GRADE})
        self._get(
            f"/v1/stations/{station}",
            "GET /v1/stations/{id}",
            {"coord": "gcj02", "grade": GRADE},
            headers=self.me,
        )
        if station in PLAN.layouts and station in priced and self.rng.random() < CONFIG.order_share:
            self._think(1.0, 3.0)
            self._order(station)

    def _order(self, station: int) -> None:
        nozzles = [n for n in PLAN.layouts[station].nozzles if n[2] == GRADE]
        if not nozzles:
            return
        position, nozzle, _ = self.rng.choice(nozzles)
        ask = {"station_id": station, "grade": GRADE, "fill": {"by_amount": "300.00"}}
        _, quote = self._send("POST", "/v1/quotes", "POST /v1/quotes", ask, (201,), headers=self.me)
        if not quote:
            return
        key = {"Idempotency-Key": f"{self.driver_id}-{self.loops}"}
        body = {"quote_token": quote["token"], "position": position, "nozzle": nozzle}
        status, made = self._send(
            "POST", "/v1/checkout", "POST /v1/checkout", body, (201, 409), headers=self.me | key
        )
        if status == 409 or not made:
            if status == 409:  # e.g. open-order-exists: this driver's earlier order there is still open
                RECORDER.counts[f"checkout refused: {(made or {}).get('type', '409')}"] += 1
            return
        checkout_id = made["checkout_id"]
        _, pay = self._send(
            "POST",
            f"/v1/me/orders/{checkout_id}/payment",
            "POST /v1/me/orders/{id}/payment",
            None,
            (200,),
            headers=self.me,
        )
        if not pay:
            return
        core = CONFIG.ordercore_url.rstrip("/")
        _, paid = self._send("POST", f"{core}/sandbox/wxpay/pay", "POST core /sandbox/wxpay/pay", pay, (200,))
        if not paid:
            return
        order = None
        for _ in range(10):  # the paid callback reaches the service asynchronously: bounded polling
            order = self._get(f"/v1/me/orders/{checkout_id}", "GET /v1/me/orders/{id}", headers=self.me)
            if order is None or order.get("verification_code"):
                break
            time.sleep(0.3)
        if not order or not order.get("verification_code"):
            RECORDER.counts["orders never shown paid"] += 1
            return
        redeem = {"station_id": station, "code": order["verification_code"]}
        status, _ = self._send(
            "POST",
            f"{core}/v1/attendant/redeem",
            "POST core /v1/attendant/redeem",
            redeem,
            (200,),
            headers=self.core,
        )
        if status != 200:
            return
        self._send(
            "POST",
            f"{core}/v1/orders/{order['order_id']}/complete",
            "POST core /v1/orders/{id}/complete",
            {"amount": quote["payable"]},
            (200,),
            headers=self.core,
        )
        RECORDER.counts["orders completed"] += 1


class PriceComparer(_Seeded):
    """Compares what a fill costs around them, detour included, with waits."""

    weight = 20
    wait_time = between(2.0, 6.0)

    @task
    def compare(self) -> None:
        self._next_loop()
        lon, lat = wgs84_to_gcj02(*_point(self.rng, self.rng.choice(PLAN.centres)))
        self._get(
            "/v1/prices/compare",
            "GET /v1/prices/compare",
            {
                "lat": f"{lat:.6f}",
                "lon": f"{lon:.6f}",
                "coord": "gcj02",
                "grade": GRADE,
                "amount": "300",
                "sort": "total",
                "wait": "true",
                "radius_m": 8000,
            },
        )


class RoadTripper(_Seeded):
    """Leaves town for the holiday: stations along the road to a city up to 400 km away."""

    weight = 10
    wait_time = between(3.0, 8.0)

    @task
    def along_route(self) -> None:
        self._next_loop()
        a = self.rng.choice(PLAN.centres)
        others = [c for c in PLAN.centres if c is not a and distance_m(a, c) <= 400_000]
        if others:
            b = self.rng.choice(others)
            end = (b.lon, b.lat)
        else:  # a lone city: 150 km in a random direction
            bearing = self.rng.random() * 2 * math.pi
            end = (
                a.lon + 1.35 * math.sin(bearing) / math.cos(math.radians(a.lat)),
                a.lat + 1.35 * math.cos(bearing),
            )
        steps = 6
        line = [
            [
                round(
                    a.lon
                    + (end[0] - a.lon) * k / steps
                    + (self.rng.uniform(-0.05, 0.05) if 0 < k < steps else 0),
                    6,
                ),
                round(
                    a.lat
                    + (end[1] - a.lat) * k / steps
                    + (self.rng.uniform(-0.05, 0.05) if 0 < k < steps else 0),
                    6,
                ),
            ]
            for k in range(steps + 1)
        ]
        body = {
            "route": {"type": "LineString", "coordinates": line},
            "coord": "wgs84",
            "corridor_m": 2000.0,
            "grade": GRADE,
            "limit": 20,
            "prices": True,
        }
        self._send("POST", "/v1/route/stations", "POST /v1/route/stations", body, (200,))


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def _station_spec(station_id: int, nozzles: list[tuple[int, int, str]]) -> StationSpec:
    by_position: dict[int, dict[int, str]] = {}
    for position, nozzle, grade in nozzles:
        by_position.setdefault(position, {})[nozzle] = grade
    positions = tuple(PositionLayout(p, n) for p, n in sorted(by_position.items()))
    size = len(positions)
    grades = sorted({g for _, _, g in nozzles})
    mix = {"92": 0.5, "95": 0.32, "98": 0.05, "0": 0.13}
    # A holiday morning: the morning peak twice the demodata feed's (demodata/forecourt_feed.py).
    return StationSpec(
        station_id,
        positions,
        day_rate_per_h=3.5 * size,
        peaks=(Peak(8.0, 0.75, 11.0 * size), Peak(18.0, 1.0, 6.5 * size)),
        grade_mix=tuple((g, mix.get(g, 0.08)) for g in grades),
        reports_every_s=60.0 if station_id % 3 == 0 else None,
        heartbeat_s=240.0,
    )


class StationSystem(_Seeded):
    """A station's forecourt controller and price system, with the station's own credential."""

    fixed_count = len(PLAN.systems)
    wait_time = constant_pacing(2.0)

    def on_start(self) -> None:
        super().on_start()
        system = PLAN.systems[self.index % len(PLAN.systems)] if PLAN.systems else None
        if system is None:
            raise StopUser()
        self.system = system
        self.auth = {"Authorization": f"Bearer {system.token}"}
        now = time.time()
        # The simulated local day starts 7.5 h before now: the run is the station's 07:30 onwards.
        spec = _station_spec(system.station_id, system.nozzles)
        sim = simulate(spec, 1, seed=CONFIG.seed * 7919 + system.station_id, start=now - 7.5 * 3600)
        offset = CONFIG.run_epoch_s * SEQ_PER_RUN_SECOND
        self.pending: list[Delivery] = [
            Delivery(d.at, dataclasses.replace(d.item, seq=d.item.seq + offset))
            if isinstance(d.item, NozzleEvent)
            else d
            for d in sim.deliveries
            if now - 5.0 <= d.at <= now + CONFIG.duration_s + 60.0 and d.item.ts >= now - 60.0
        ]
        self.grades = sorted({g for _, _, g in system.nozzles})
        self.next_price = now + self.rng.uniform(5.0, 60.0)

    @task
    def post(self) -> None:
        self._next_loop()
        now = time.time()
        due = [d for d in self.pending if d.at <= now]
        if due:
            self.pending = self.pending[len(due) :]
            body = ndjson_body(d.item for d in due)
            with self.client.post(
                "/v1/occupancy/events",
                data=body.decode(),
                headers=self.auth | {"Content-Type": NDJSON},
                name="POST /v1/occupancy/events",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"status {response.status_code}: {(response.text or '')[:120]}")
                else:
                    response.success()
                    answer = response.json()
                    RECORDER.counts["forecourt items posted"] += len(due)
                    RECORDER.counts["forecourt items accepted"] += int(answer["accepted"])
                    RECORDER.counts["forecourt items duplicates"] += int(answer["duplicates"])
                    RECORDER.counts["forecourt items rejected"] += int(answer["rejected"])
                    for reject in answer.get("rejects") or []:
                        RECORDER.counts[f"forecourt reject {reject.get('code')}"] += 1
        if now >= self.next_price and self.grades:
            self.next_price = now + self.rng.uniform(45.0, 90.0)
            grade = self.rng.choice(self.grades)
            base = {"0": 7.30, "95": 8.30, "98": 9.10}.get(grade, 7.80)
            price = f"{base + self.rng.uniform(-0.20, 0.20):.2f}"
            _, answer = self._send(
                "PUT",
                f"/v1/stations/{self.system.station_id}/prices",
                "PUT /v1/stations/{id}/prices",
                {"prices": [{"grade": grade, "tier": "pump", "price": price}]},
                (200,),
                headers=self.auth,
            )
            if answer:
                RECORDER.counts["price posts accepted"] += int(answer["accepted"])
                RECORDER.counts["price posts rejected"] += int(answer["rejected"])


class Operator(_Seeded):
    """The operator adjusts a holiday coupon's amount now and then."""

    fixed_count = 1
    wait_time = constant_pacing(15.0)

    def on_start(self) -> None:
        super().on_start()
        self.auth = {"Authorization": f"Bearer {CONFIG.operator_token}"}
        self.template = f"peak-{CONFIG.seed}"
        self._send(
            "POST",
            "/v1/operator/coupon-templates",
            "POST /v1/operator/coupon-templates",
            self._body(10) | {"id": self.template},
            (201, 409),  # 409: an earlier run made it
            headers=self.auth,
        )

    @staticmethod
    def _body(amount: int) -> dict[str, Any]:
        return {
            "name": f"假日满200减{amount}",
            "discount": {"kind": "amount_off", "threshold": "200", "amount": str(amount)},
        }

    @task
    def change_promotion(self) -> None:
        self._next_loop()
        self._send(
            "PUT",
            f"/v1/operator/coupon-templates/{self.template}",
            "PUT /v1/operator/coupon-templates/{id}",
            self._body(5 + self.loops % 16),
            (200,),
            headers=self.auth,
        )


if PLAN.partner:

    class PartnerFeed(_Seeded):
        """A map partner: the snapshot, then the change feed from the snapshot's cursor (issue 15)."""

        fixed_count = 1
        wait_time = constant_pacing(1.0)

        def on_start(self) -> None:
            super().on_start()
            self.auth = {"Authorization": f"Bearer {CONFIG.partner_key}"} if CONFIG.partner_key else {}
            self.cursor: str | None = None
            started = time.perf_counter()
            with self.client.get(
                PLAN.partner["snapshot"],
                name="GET /v1/partner/snapshot",  # its time is to the first byte: the whole is in counts
                headers={**self.auth, "Accept-Encoding": "gzip"},
                stream=True,
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"status {response.status_code}")
                    return
                last = _last_line(response._response)
                response.success()
            RECORDER.counts["partner snapshot: seconds to its end line"] = round(
                time.perf_counter() - started
            )
            end = json.loads(last) if last else {}
            self.cursor = end.get("cursor") if isinstance(end, dict) else None
            RECORDER.counts["partner snapshot: end cursor read"] += 1 if self.cursor else 0

        @task
        def follow(self) -> None:
            self._next_loop()
            query = {"cursor": self.cursor} if self.cursor else {}
            page = self._get(PLAN.partner["changes"], "GET /v1/partner/changes", query, headers=self.auth)
            if isinstance(page, dict):
                self.cursor = page.get("next_cursor") or page.get("cursor") or self.cursor


def _last_line(raw: Any) -> bytes:
    """The last line of a streamed NDJSON body, read chunk by chunk (a national snapshot is 1.4 GB of
    text: never held whole, and the other users run between chunks)."""
    inflate: Any = None
    tail = b""
    while chunk := raw.read(1 << 16):
        if inflate is None:
            inflate = zlib.decompressobj(31) if chunk[:2] == b"\x1f\x8b" else False
        tail = (tail + (inflate.decompress(chunk) if inflate else chunk))[-(1 << 16) :]
        time.sleep(0)  # gevent's (locust patches it): the other users run
    return tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]


class HolidayPeak(LoadTestShape):
    """loadtests/peak/profile.py over the run's duration and scale; station systems, the operator (and the
    partner) are fixed-count users on top."""

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()  # type: ignore[no-untyped-call]
        stage = stage_at(elapsed, CONFIG.duration_s, CONFIG.scale)
        if stage is None or _past_deadline():
            return None
        fixed = len(PLAN.systems) + 1 + (1 if PLAN.partner else 0)
        users = stage.users + fixed
        RECORDER.users_at(time.time(), users, stage.phase)
        return users, max(5.0, users / 5.0)
