"""Station prices through pricing.ladder against real PostGIS: every rejection rule, windows, stale,
idempotence."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from pricing.ladder import PriceUpdate, cheapest, ladder, regional_stats, write_prices
from pricing.validation import Rules
from tests.ingest.support import scalar
from tests.pricing.support import city_stations, official

T0 = datetime(2026, 4, 22, 8, 0, tzinfo=UTC)  # the 2026-04-22 guide prices are in force
NOW = T0 + timedelta(hours=1)


def _u(
    station: int, tier: str, price: str, at: datetime = T0, grade: str = "92", **kw: object
) -> PriceUpdate:
    return PriceUpdate(station, grade, tier, Decimal(price), at, "test", **kw)  # type: ignore[arg-type]


def _reasons(engine: Engine, updates: list[PriceUpdate]) -> list[str | None]:
    return [o.reason for o in write_prices(engine, updates, now=NOW)]


def test_each_rejection_rule(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    official(engine, shared_data, tmp_path / "r.csv")
    km = city_stations(engine, "kunming")["kunming"]
    from pricing.zones import assign_zones

    assign_zones(engine)
    reasons = _reasons(
        engine,
        [
            _u(km, "pump", "0"),
            _u(km, "pump", "-7.61", grade="95"),
            _u(km, "pump", "8.62", grade="0"),  # guide 0# yunnan-1 is 8.21
            _u(km, "pump", "761", grade="89"),  # fen as yuan, guide 7.93
            _u(km, "attended", "0.0761", grade="89"),  # yuan as fen
            _u(km, "pump", "7.50", grade="Blue Diesel"),
            _u(km, "pump", "7.50", grade="98", at=NOW + timedelta(days=3)),  # no guide for 98#: far future
            _u(km, "pump", "8.40"),  # accepted, the pump price of the batch
            _u(km, "platform", "8.45"),  # above the pump price of the same batch
            _u(km, "platform", "8.20", grade="95"),  # no pump for 95#: accepted
            _u(km, "member:gold", "8.30", grade="95"),  # above platform 8.20
            _u(km, "vip", "8.00"),
        ],
    )
    assert reasons == [
        "price must be positive, got 0",
        "price must be positive, got -7.61",
        "above guide ¥8.21 (yunnan-1, from 2026-04-22): ¥8.62",
        (
            "unit error: ¥761 looks like fen given as yuan "
            "(x100 of ¥7.61; guide ¥7.93 (yunnan-1, from 2026-04-22))"
        ),
        (
            "unit error: ¥0.0761 looks like yuan given as fen "
            "(x0.01 of ¥7.61; guide ¥7.93 (yunnan-1, from 2026-04-22))"
        ),
        "unknown grade 'Blue Diesel'",
        (
            f"effective_from {(NOW + timedelta(days=3)).isoformat()} is in the future "
            "(more than 1 day, 0:00:00 ahead)"
        ),
        None,
        "platform price ¥8.45 above pump price ¥8.4",
        None,
        "member:gold price ¥8.3 above platform price ¥8.2",
        "unknown tier 'vip': pump, platform, attended or member:<level>",
    ]
    # Without a guide (98#), a unit error is judged against the plausible CNY range, and so is a typo.
    assert _reasons(engine, [_u(km, "pump", "899", grade="98"), _u(km, "pump", "45.00", grade="98")]) == [
        "unit error: ¥899 looks like fen given as yuan (x100 of ¥8.99; plausible range)",
        "implausible price ¥45: outside ¥2..¥20",
    ]
    # The member price is checked against stored prices too (platform 8.20 for 95# is now stored).
    assert _reasons(engine, [_u(km, "member:gold", "8.10", grade="95")]) == [None]
    assert scalar(engine, "SELECT count(*) FROM station_prices") == 3


def test_windows_as_of_stale_and_idempotence(engine: Engine) -> None:
    sid = city_stations(engine, "taiyuan")["taiyuan"]  # no zone stored: no guide check
    t1, t2 = T0, T0 + timedelta(days=10)
    first = write_prices(engine, [_u(sid, "pump", "8.30", t1), _u(sid, "platform", "8.10", t1)], now=t2)
    assert [o.status for o in first] == ["inserted", "inserted"]
    again = write_prices(engine, [_u(sid, "pump", "8.30", t1), _u(sid, "platform", "8.10", t1)], now=t2)
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    # A re-confirmation of the price in force only moves confirmed_at.
    reconfirm = write_prices(engine, [_u(sid, "pump", "8.30", t1 + timedelta(days=9))], now=t2)
    assert [o.status for o in reconfirm] == ["confirmed"]
    assert scalar(engine, "SELECT count(*) FROM station_prices") == 2
    # A new price closes the window of the old one.
    assert [o.status for o in write_prices(engine, [_u(sid, "pump", "8.00", t2)], now=t2)] == ["updated"]
    old = ladder(engine, sid, "92", as_of=t1 + timedelta(days=9, hours=1))
    assert (old.get("pump").price, old.get("platform").price) == (Decimal("8.30"), Decimal("8.10"))  # type: ignore[union-attr]
    assert old.get("pump").stale is False and old.get("platform").stale is True  # type: ignore[union-attr]
    new = ladder(engine, sid, "92", as_of=t2 + timedelta(hours=1))
    assert new.get("pump").price == Decimal("8.00") and new.get("guide") is None  # type: ignore[union-attr]
    assert ladder(engine, sid, "92", as_of=t1 - timedelta(seconds=1)).rungs == ()
    assert scalar(engine, "SELECT count(*) FROM station_prices WHERE effective_to IS NULL") == 2
    # A back-dated price goes into history without touching the current one.
    back = write_prices(engine, [_u(sid, "pump", "8.50", t1 - timedelta(days=5))], now=t2)
    assert [o.status for o in back] == ["inserted"]
    assert ladder(engine, sid, "92", as_of=t1 - timedelta(days=1)).get("pump").price == Decimal("8.50")  # type: ignore[union-attr]
    assert ladder(engine, sid, "92", as_of=t1).get("pump").price == Decimal("8.30")  # type: ignore[union-attr]


def test_stale_prices_left_out_of_cheapest_and_stats(engine: Engine) -> None:
    ids = city_stations(engine, "kunming", "qujing", "taiyuan")
    now = T0 + timedelta(days=5)
    write_prices(
        engine,
        [
            _u(ids["kunming"], "pump", "7.90", T0),  # cheapest but 5 days old: stale
            _u(ids["qujing"], "pump", "8.20", now - timedelta(hours=1)),
            _u(ids["taiyuan"], "pump", "8.10", now - timedelta(hours=47)),
        ],
        now=now,
    )
    fresh = [p.station_id for p in cheapest(engine, "92", as_of=now)]
    assert fresh == [ids["taiyuan"], ids["qujing"]]
    every = [p.station_id for p in cheapest(engine, "92", as_of=now, include_stale=True)]
    assert every == [ids["kunming"], ids["taiyuan"], ids["qujing"]]
    short = Rules(stale_after=timedelta(hours=2))
    assert [p.station_id for p in cheapest(engine, "92", as_of=now, rules=short)] == [ids["qujing"]]
    yunnan = regional_stats(engine, province="云南省", as_of=now)
    assert [(s.grade, s.stations, s.min, s.avg, s.max) for s in yunnan] == [
        ("92", 1, Decimal("8.20"), Decimal("8.20"), Decimal("8.20"))
    ]
    all_yunnan = regional_stats(engine, province="云南省", as_of=now, include_stale=True)
    assert [(s.stations, s.min, s.avg, s.max) for s in all_yunnan] == [
        (2, Decimal("7.90"), Decimal("8.05"), Decimal("8.20"))
    ]
    assert [s.stations for s in regional_stats(engine, city="太原市", as_of=now)] == [1]


def test_concurrent_posts_of_one_station_are_serialised(engine: Engine) -> None:
    """Writers racing on one station's grade: each post is stored or rejected, none fails (before the
    per-station lock, two of them closed the same window: an exclusion violation, a 500 over HTTP)."""
    from tests.api.test_nearby_features import station
    from tests.support import insert_records

    (sid,) = insert_records(engine, [station("并发站", 100)])
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def post(offset: int) -> None:
        start.wait()
        for n in range(25):
            at = T0 + timedelta(seconds=n * 4 + offset)  # interleaved instants, each writer in order
            try:
                write_prices(engine, [_u(sid, "pump", f"7.{50 + n:02d}", at)], now=NOW + timedelta(hours=n))
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    current = scalar(
        engine,
        "SELECT count(*) FROM station_prices WHERE station_id = :sid AND grade = '92' AND tier = 'pump' "
        "AND effective_to IS NULL",
        sid=sid,
    )
    assert current == 1
