"""Synthetic demo prices: deterministic, plausible, loaded with the stations in one transaction, readable."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg2
import pytest
from sqlalchemy import Engine, text

from demodata.generator import generate
from demodata.load import Prices, load
from demodata.prices import PRICED_GRADES, guide_caps, province_bases, station_prices
from geo.records import StationRecord
from pricing.ladder import ladder
from pricing.validation import PLAUSIBLE, Context, Quote, check

ROOT = Path(__file__).resolve().parents[2]
LOADED_AT = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)
SEED = 23


@pytest.fixture(scope="module")
def records() -> list[StationRecord]:
    return list(generate(4000, SEED))


def _rows(records: list[StationRecord], start: int = 0) -> list[str]:
    priced = station_prices(records, seed=SEED, start=start, loaded_at=LOADED_AT)
    return priced.copy_payload(1).decode().splitlines()


def test_same_seed_same_prices_for_any_batch_size(records: list[StationRecord]) -> None:
    whole = _rows(records)
    again = _rows(list(generate(4000, SEED)))
    assert whole == again
    # In two batches, station ids restart at 1 in the second: compare everything but the id.
    split = [r.split("\t", 1)[1] for r in _rows(records[:1500]) + _rows(records[1500:], start=1500)]
    assert split == [r.split("\t", 1)[1] for r in whole]
    other = station_prices(records, seed=SEED + 1, start=0, loaded_at=LOADED_AT).copy_payload(1).decode()
    assert other.splitlines() != whole


def test_every_priced_grade_gets_a_pump_price_and_most_a_platform_price(records: list[StationRecord]) -> None:
    rows = [r.split("\t") for r in _rows(records)]
    pump = {(int(r[0]) - 1, r[1]) for r in rows if r[2] == "pump"}
    expected = {(k, g) for k, rec in enumerate(records) for g in rec.grades if g in PRICED_GRADES}
    assert pump == expected and len(pump) == sum(1 for r in rows if r[2] == "pump")
    assert all(g not in {r[1] for r in rows} for g in ("CNG", "LNG", "LPG"))
    with_platform = {int(r[0]) for r in rows if r[2] == "platform"}
    priced_stations = {k for k, _ in expected}
    assert 0.66 < len(with_platform) / len(priced_stations) < 0.74
    assert {(int(r[0]) - 1, r[1]) for r in rows if r[2] == "platform"} <= pump


def test_prices_are_plausible_two_decimal_and_platform_not_above_pump(records: list[StationRecord]) -> None:
    rows = [r.split("\t") for r in _rows(records)]
    low, high = PLAUSIBLE["CNY"]
    pumps = {(r[0], r[1]): Decimal(r[3]) for r in rows if r[2] == "pump"}
    for station, grade, tier, price_text, currency, effective_from, source, _ in rows:
        price = Decimal(price_text)
        assert price.as_tuple().exponent == -2 and currency == "CNY" and source == "synthetic-demo"
        assert low <= price <= high
        when = datetime.fromisoformat(effective_from)
        pump = pumps[(station, grade)]
        quote = Quote(grade, tier, price, "CNY", when)
        assert check(quote, Context(pump=pump if tier == "platform" else None), LOADED_AT) is None
        if tier == "platform":
            assert pump - Decimal("0.60") <= price < pump
    per_grade: dict[str, list[Decimal]] = {}
    for (_, grade), price in pumps.items():
        per_grade.setdefault(grade, []).append(price)
    levels = {"92": ("7.40", "8.90"), "95": ("7.90", "9.50"), "98": ("8.90", "10.50"), "0": ("7.10", "8.60")}
    for grade, (lo, hi) in levels.items():
        assert Decimal(lo) <= min(per_grade[grade]) and max(per_grade[grade]) <= Decimal(hi), grade


def test_province_bases_are_ordered_and_in_the_2026_ranges() -> None:
    for province in ("北京市", "黑龙江省", "广东省", "新疆维吾尔自治区", "海南省", "陕西省"):
        b = province_bases(province, SEED)
        assert 700 <= b["89"] <= 820 and 750 <= b["92"] <= 890 and 800 <= b["95"] <= 950
        assert 900 <= b["98"] <= 1050 and 720 <= b["0"] <= 860
        assert b["89"] < b["92"] < b["95"] < b["98"] and b["0"] < b["-10"] < b["-20"]
        assert (b["E92"], b["E95"]) == (b["92"], b["95"])
        assert province_bases(province, SEED) == b
    assert (
        len({province_bases(p, SEED)["92"] for p in ("北京市", "广东省", "海南省", "西藏自治区", "上海市")})
        > 1
    )


def test_about_three_percent_are_stale_and_timestamps_are_in_their_windows(
    records: list[StationRecord],
) -> None:
    priced = station_prices(records, seed=SEED, start=0, loaded_at=LOADED_AT)
    assert 0.02 < float(np.mean(priced.stale)) < 0.04
    for k, stale in enumerate(priced.stale.tolist()):
        effective = datetime.fromisoformat(priced.effective_from[k])
        confirmed = datetime.fromisoformat(priced.confirmed_at[k])
        age = LOADED_AT - confirmed
        if stale:
            assert timedelta(days=3) <= age <= timedelta(days=5)
        else:
            assert timedelta(0) <= age <= timedelta(hours=12)
        assert LOADED_AT - timedelta(days=10) <= effective <= confirmed


def _scalar(engine: Engine, query: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(query)).scalar_one()


def _load(
    database_url: str, records: list[StationRecord], prices: Prices | None, chunk_size: int = 700
) -> int:
    conn = psycopg2.connect(database_url)
    try:
        counts = load(conn, records, prices=prices, chunk_size=chunk_size)
    finally:
        conn.close()
    assert counts.stations == len(records)
    return counts.prices


def test_load_puts_prices_beside_the_stations_and_bumps_price_version(
    engine: Engine, database_url: str
) -> None:
    records = list(generate(1500, SEED))
    version = _scalar(engine, "SELECT version FROM price_version")
    assert isinstance(version, int)
    loaded = _load(database_url, records, Prices(SEED, LOADED_AT))
    expected = station_prices(records, seed=SEED, start=0, loaded_at=LOADED_AT)
    assert loaded == len(expected) == _scalar(engine, "SELECT count(*) FROM station_prices")
    assert _scalar(engine, "SELECT version FROM price_version") > version  # type: ignore[operator]
    assert _scalar(engine, "SELECT count(*) FROM station_prices WHERE tier = 'platform'") == int(
        np.count_nonzero(expected.platform)
    )
    # The rows are the generated ones, on the right stations (by their synthetic identifier).
    query = text(
        "SELECT split_part(i.external_id, '-', 2)::int, p.grade, p.tier, p.price::text, p.effective_from, "
        "p.confirmed_at FROM station_prices p JOIN station_identifiers i ON i.station_id = p.station_id "
        "ORDER BY 1, 2, 3"
    )
    with engine.connect() as conn:
        stored = {(k, g, t): (price, eff, conf) for k, g, t, price, eff, conf in conn.execute(query)}
    for line in expected.copy_payload(0).decode().splitlines():
        k, grade, tier, price, _, eff, _, conf = line.split("\t")
        got = stored[(int(k), grade, tier)]
        assert (Decimal(got[0]), got[1], got[2]) == (
            Decimal(price),
            datetime.fromisoformat(eff),
            datetime.fromisoformat(conf),
        )
    # The foreign key, keys, no-overlap exclusion constraint and indexes of station_prices are back.
    assert (
        _scalar(
            engine,
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'station_prices'::regclass "
            "AND contype IN ('f', 'p', 'u', 'x')",
        )
        == 4
    )
    assert (
        _scalar(engine, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_station_prices_current'") == 1
    )


def test_ladder_reads_pump_and_platform_of_a_loaded_station(engine: Engine, database_url: str) -> None:
    records = list(generate(300, SEED))
    _load(database_url, records, Prices(SEED, LOADED_AT), chunk_size=10_000)
    with engine.connect() as conn:
        station_id, grade, price = conn.execute(
            text(
                "SELECT station_id, grade, price FROM station_prices WHERE tier = 'platform' "
                "ORDER BY station_id, grade LIMIT 1"
            )
        ).one()
    rungs = ladder(engine, station_id, grade, as_of=LOADED_AT)
    pump, platform = rungs.get("pump"), rungs.get("platform")
    assert pump is not None and platform is not None
    assert platform.price == price and platform.price < pump.price
    assert platform.source == pump.source == "synthetic-demo"
    assert pump.stale is False or LOADED_AT - pump.confirmed_at > timedelta(days=2)


def test_no_prices_loads_stations_only(engine: Engine, database_url: str) -> None:
    version = _scalar(engine, "SELECT version FROM price_version")
    assert _load(database_url, list(generate(200, SEED)), None) == 0
    assert _scalar(engine, "SELECT count(*) FROM stations") == 200
    assert _scalar(engine, "SELECT count(*) FROM station_prices") == 0
    assert _scalar(engine, "SELECT version FROM price_version") == version


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "demodata.cli", "load", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_loads_prices_counts_them_and_if_empty_then_does_nothing(
    engine: Engine, database_url: str
) -> None:
    first = _cli(database_url, "--stations", "250", "--seed", "4")
    assert first.returncode == 0, first.stderr
    rows = _scalar(engine, "SELECT count(*) FROM station_prices")
    assert isinstance(rows, int) and rows > 250
    assert f"{rows} synthetic prices" in first.stdout
    version = _scalar(engine, "SELECT version FROM price_version")
    stamp = _scalar(
        engine,
        "SELECT md5(string_agg(id || price::text || confirmed_at::text, ',' ORDER BY id)) "
        "FROM station_prices",
    )
    again = _cli(database_url, "--stations", "250", "--seed", "9", "--if-empty")
    assert again.returncode == 0 and "nothing loaded" in again.stdout
    assert _scalar(engine, "SELECT version FROM price_version") == version
    assert (
        _scalar(
            engine,
            "SELECT md5(string_agg(id || price::text || confirmed_at::text, ',' ORDER BY id)) "
            "FROM station_prices",
        )
        == stamp
    )
    bare = _cli(database_url, "--stations", "120", "--seed", "5", "--replace", "--no-prices")
    assert bare.returncode == 0, bare.stderr
    assert " 0 synthetic prices" in bare.stdout
    assert _scalar(engine, "SELECT count(*) FROM station_prices") == 0
    assert _scalar(engine, "SELECT count(*) FROM stations") == 120


def test_no_pump_price_lies_above_the_official_guide(records: list[StationRecord]) -> None:
    """The ladder's guide rung (最高零售价, demodata/guide_prices) bounds the synthetic pump prices."""
    caps = guide_caps()
    assert caps["云南省"]["92"] == 861 and caps["山西省"]["0"] == 822  # the table's own figures
    assert caps["海南省"] == {"92": 853, "E92": 853, "0": 810}  # its 89# 6.14 and 95# 5.83 are a slip
    rows = [r.split("\t") for r in _rows(records)]
    checked = 0
    for station, grade, tier, price_text, *_ in rows:
        cap = caps[records[int(station) - 1].province or ""].get(grade)
        if tier == "pump" and cap is not None:
            assert Decimal(price_text) * 100 <= cap, (station, grade, price_text)
            checked += 1
    assert checked > 4000
