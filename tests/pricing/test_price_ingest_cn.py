"""The official 2026-04-21 tables and the 2021-2022 history: zones resolved for real cities, windows,
re-runs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from ingest.cli import main
from ingest.prices.pipeline import ingest_prices
from pricing.ladder import ladder
from tests.ingest.support import rejects_of, scalar
from tests.pricing.support import HISTORY, OFFICIAL, city_stations, official

AFTER = datetime(2026, 4, 22, 12, 0, tzinfo=UTC)


def test_official_tables_resolve_yunnan_zones_and_shanxi(
    engine: Engine, shared_data: Path, tmp_path: Path
) -> None:
    ids = city_stations(engine, "kunming", "qujing", "zhaotong", "baoshan", "lincang", "taiyuan")
    summary = official(engine, shared_data, tmp_path / "o.csv")
    # 45 zones x 4 products = 180 prices, 5 not published (89# in both Inner Mongolia zones, Jilin, Henan,
    # Hubei) -> 175 stored; 3,093 region items, 3 repeat a region string (广东, 新疆伊犁伊宁,
    # 河北张家口宣化) -> 3,090 mappings. Read = 45 zones + 180 prices + 3,093 regions.
    reasons = Counter(r.split(" ")[0] for _, r, _ in rejects_of(tmp_path / "o.csv"))
    assert reasons == {"89#": 5, "duplicate": 3}
    assert (summary.read, summary.counts["inserted"], summary.rejected, summary.zones) == (3318, 175, 8, 45)
    assert scalar(engine, "SELECT count(*) FROM price_zone_regions") == 3090
    assert summary.zone_summary is not None and summary.zone_summary.resolved == 6
    zones = {key: (ladder(engine, sid, "92", AFTER).get("guide")) for key, sid in ids.items()}
    got = {k: (g.zone_code, g.price) for k, g in zones.items() if g is not None}
    assert got == {
        "kunming": ("yunnan-1", Decimal("8.61")),
        "qujing": ("yunnan-2", Decimal("8.68")),
        "zhaotong": ("yunnan-3", Decimal("8.76")),
        "baoshan": ("yunnan-4", Decimal("8.83")),
        "lincang": ("yunnan-5", Decimal("8.89")),
        "taiyuan": ("default", Decimal("8.40")),
    }
    guide = zones["kunming"]
    assert guide is not None and guide.source == "cn-official"
    assert guide.effective_from == datetime(2026, 4, 21, 16, 0, tzinfo=UTC)  # 2026-04-22 00:00 Shanghai
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM guide_prices WHERE province_code = '530000' AND source_url LIKE 'https://yndrc.yn.gov.cn/%'",
        )
        == 20
    )
    assert ladder(engine, ids["kunming"], "92", datetime(2026, 4, 21, 15, 59, tzinfo=UTC)).rungs == ()
    stamp = scalar(
        engine, "SELECT count(*) FROM guide_prices WHERE confirmed_at = '2026-04-28T15:43:17+08:00'"
    )
    again = official(engine, shared_data, tmp_path / "o2.csv")
    assert (again.counts["unchanged"], again.counts["inserted"], again.regions_changed) == (175, 0, 0)
    assert again.zone_summary is not None and again.zone_summary.changed == 0
    assert stamp == 175 and scalar(engine, "SELECT count(*) FROM guide_prices") == 175


def test_history_windows_and_cli(engine: Engine, shared_data: Path, tmp_path: Path) -> None:
    km = city_stations(engine, "kunming")["kunming"]
    assert (
        main(
            [
                "prices",
                "--format",
                "cn-official",
                str(shared_data / OFFICIAL),
                "--rejects",
                str(tmp_path / "o.csv"),
            ]
        )
        == 0
    )
    summary = ingest_prices(engine, "cn-history", shared_data / HISTORY, tmp_path / "h.csv")
    # 1,257 rows x 4 grades (89# ignored) = 5,028 prices; 98# is '0' in 38 and '-' in 7 -> rejected.
    reasons = Counter(r.split(":")[0] for _, r, _ in rejects_of(tmp_path / "h.csv"))
    assert reasons == {"98# not published (price 0)": 38, "unparsable p98 '-'": 7}
    assert (summary.read, summary.rejected) == (5028, 45)
    # Yunnan 92#: 6.73 in 2021-03, 9.47 at the 2022-06 peak (source SOURCE.md), then the official 8.61.
    assert ladder(engine, km, "92", datetime(2021, 3, 12, tzinfo=UTC)).get("guide").price == Decimal("6.73")  # type: ignore[union-attr]
    assert ladder(engine, km, "92", datetime(2022, 6, 20, tzinfo=UTC)).get("guide").price == Decimal("9.47")  # type: ignore[union-attr]
    assert ladder(engine, km, "92", datetime(2021, 3, 20, tzinfo=UTC)).get("guide").price == Decimal("6.92")  # type: ignore[union-attr]
    assert ladder(engine, km, "92", AFTER).get("guide").price == Decimal("8.61")  # type: ignore[union-attr]
    overlaps = scalar(
        engine,
        "SELECT count(*) FROM guide_prices a JOIN guide_prices b ON a.id < b.id "
        "AND a.province_code = b.province_code AND a.zone_code = b.zone_code AND a.grade = b.grade "
        "AND tstzrange(a.effective_from, a.effective_to) && tstzrange(b.effective_from, b.effective_to)",
    )
    assert overlaps == 0
    assert (
        scalar(engine, "SELECT count(*) FROM guide_prices WHERE effective_to IS NULL AND source = 'youjia'")
        == 31
    )
    again = ingest_prices(engine, "cn-history", shared_data / HISTORY, tmp_path / "h2.csv")
    assert again.counts["unchanged"] == 5028 - 45 and set(again.counts) == {"unchanged"}
    assert main(["price-zones"]) == 0
