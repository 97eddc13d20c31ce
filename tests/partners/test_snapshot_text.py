"""PostgreSQL writes each partner station's JSON text (partners/sql/partner_stations.sql): it must say
what the tables hold, rebuilt here independently from the rows, including texts JSON must escape, empty
and missing values, several grades, the partner's own POI id and both coordinate systems; the snapshot
and the feed show a station the same way."""

from __future__ import annotations

from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, text

from geo.coords import CoordSystem, from_wgs84
from partners import poi
from partners.stations import stations_of
from tests.partners.conftest import ME, OTHER
from tests.partners.support import FIXED, post_price, snapshot, stations

AWKWARD_NAME = '中石化 "壳牌"\\加油站\n第二行\t\x01 ✓'
HOURS = {"weekly": {"mon": [["06:00", "22:00"]], "sat": []}}


def _expected(engine: Engine, station_id: int, partner_id: int, coord: CoordSystem) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT s.*, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, "
                "(SELECT poi_id FROM partner_poi_ids WHERE partner_id = :p AND station_id = s.id) AS poi "
                "FROM stations AS s WHERE s.id = :id"
            ),
            {"id": station_id, "p": partner_id},
        ).one()
        prices = conn.execute(
            text(
                "SELECT grade, tier, price, currency, effective_from, confirmed_at FROM station_prices "
                "WHERE station_id = :id AND effective_to IS NULL ORDER BY grade, tier"
            ),
            {"id": station_id},
        ).all()
    lon, lat = from_wgs84(row.lon, row.lat, coord)

    def instant(value: Any) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat(timespec="milliseconds")

    return {
        "id": station_id,
        "poi_id": row.poi,
        "name": row.name,
        "brand": row.brand,
        "address": row.address,
        "province": row.province,
        "city": row.city,
        "county": row.county,
        "adcode": row.adcode,
        "location": {"lon": round(lon, 6), "lat": round(lat, 6)},
        "status": row.status,
        "grades": list(row.grades),
        "services": list(row.services),
        "timezone": row.timezone,
        "opening_hours": row.opening_hours,
        "updated_at": instant(row.updated_at),
        "prices": [
            {
                "grade": p.grade,
                "tier": p.tier,
                "price": str(Decimal(p.price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
                "currency": p.currency,
                "effective_from": instant(p.effective_from),
                "confirmed_at": instant(p.confirmed_at),
            }
            for p in prices
        ],
    }


@pytest.mark.parametrize("coord", [CoordSystem.WGS84, CoordSystem.GCJ02, CoordSystem.BD09])
def test_each_station_line_says_what_the_tables_hold(feed_engine: Engine, coord: CoordSystem) -> None:
    awkward, plain, priced = stations(feed_engine, 3)
    with feed_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE stations SET name = :name, address = :address, county = NULL, "
                "opening_hours = CAST(:hours AS jsonb), services = ARRAY['car_wash', 'toilet'] WHERE id = :id"
            ),
            {
                "name": AWKWARD_NAME,
                "address": 'a "quoted" \\ address',
                "hours": orjson.dumps(HOURS).decode(),
                "id": awkward,
            },
        )
        poi.attach(conn, ME, awkward, 'poi/"1"')
        poi.attach(conn, OTHER, priced, "others-only")
    post_price(feed_engine, priced, "7.885", FIXED)
    post_price(feed_engine, priced, "8.2", FIXED, grade="95")
    post_price(feed_engine, priced, "9.10", FIXED, grade="98")

    lines = snapshot(feed_engine, ME, coord)
    shown = {line["station"]["id"]: line["station"] for line in lines if line["type"] == "station"}
    for station_id in (awkward, plain, priced):
        assert shown[station_id] == _expected(feed_engine, station_id, ME, coord)
    assert shown[awkward]["name"] == AWKWARD_NAME and shown[awkward]["poi_id"] == 'poi/"1"'
    assert shown[awkward]["opening_hours"] == HOURS and shown[awkward]["county"] is None
    assert shown[plain]["prices"] == [] and shown[plain]["poi_id"] is None
    assert shown[priced]["poi_id"] is None  # another partner's id is never shown
    assert [(p["grade"], p["price"]) for p in shown[priced]["prices"]] == [
        ("92", "7.89"),
        ("95", "8.20"),
        ("98", "9.10"),
    ]
    with feed_engine.connect() as conn:
        assert stations_of(conn, [awkward, plain, priced], ME, coord) == shown
