"""Every writer path lands in the change log: a price PUT over HTTP, the operator API, the demo loader's
COPY, the stations ingest, plain SQL (update, delete with its cascade, truncate)."""

from __future__ import annotations

from pathlib import Path

import psycopg2
from sqlalchemy import Engine, text

from access import credentials
from changelog import cursor_at_head
from demodata.generator import generate
from demodata.load import Prices, load
from tests.api.test_nearby_features import station
from tests.changelog.support import FIXED, PRICE_COPY, follow, kinds, price_copy, put_price
from tests.ingest.support import ingest
from tests.support import LiveServer, insert_records

AUTH = {"Authorization": "Bearer dev-operator-token"}


def _head(engine: Engine) -> str:
    with engine.connect() as conn:
        return cursor_at_head(conn)


def test_a_price_put_over_http_is_logged(server: LiveServer, engine: Engine) -> None:
    [station_id] = insert_records(engine, [station("变更日志站", 0)])
    token = credentials.issue(engine, station_id).token
    start = _head(engine)
    put_price(server, station_id, token, "7.95", FIXED)
    put_price(server, station_id, token, "7.99", FIXED.replace(hour=9))  # closes the first: an update
    changes, _ = follow(engine, start)
    assert {(c.entity, c.station_id) for c in changes} == {("price", station_id)}
    assert kinds(changes) == {("price", "I"): 2, ("price", "U"): 1}
    assert len({c.seq for c in changes}) == 2  # one transaction per PUT


def test_operator_changes_are_logged(server: LiveServer, engine: Engine) -> None:
    start = _head(engine)
    template = {"id": "t-cl", "discount": {"kind": "amount_off", "amount": "5"}}
    assert server.client.post("/v1/operator/coupon-templates", json=template, headers=AUTH).status_code == 201
    level = {"discounts": [{"grade": None, "per_litre": "0.1"}, {"grade": "92", "per_litre": "0.2"}]}
    assert server.client.put("/v1/operator/member-levels/gold", json=level, headers=AUTH).status_code == 200
    promo = {"id": "wx-cl", "channel": "wechat_pay", "discount": {"kind": "amount_off", "amount": "5"}}
    assert server.client.post("/v1/operator/payment-promotions", json=promo, headers=AUTH).status_code == 201
    policy = {"points": {"points_per_yuan": 200, "max_share": "0.3"}}
    assert server.client.put("/v1/operator/policy", json=policy, headers=AUTH).status_code == 200
    changes, _ = follow(engine, start)
    assert [(c.entity, c.entity_key, c.op) for c in changes] == [
        ("coupon_template", "t-cl", "I"),
        ("member_level", "gold", "I"),
        ("member_level", "gold", "I"),
        ("payment_promotion", "wx-cl", "I"),
        ("promotion_policy", None, "I"),
    ]
    assert len({c.seq for c in changes}) == 4


def test_the_demo_loaders_copy_is_logged_as_one_transaction(engine: Engine, database_url: str) -> None:
    start = _head(engine)
    conn = psycopg2.connect(database_url)
    try:
        counts = load(conn, generate(60, 5), prices=Prices(5, FIXED), chunk_size=25)
    finally:
        conn.close()
    changes, _ = follow(engine, start, limit=97)  # pages cut the transaction anywhere
    assert kinds(changes) == {
        ("station", "I"): counts.stations,
        ("station_identifier", "I"): counts.identifiers,
        ("position", "I"): counts.positions,
        ("nozzle", "I"): counts.nozzles,
        ("price", "I"): counts.prices,
    }
    assert len({c.seq for c in changes}) == 1 and len({c.id for c in changes}) == len(changes)
    with engine.connect() as db:
        ids = set(db.execute(text("SELECT id FROM stations")).scalars())
        prices = set(db.execute(text("SELECT id FROM station_prices")).scalars())
    assert {c.entity_id for c in changes if c.entity == "station"} == ids
    assert {c.entity_id for c in changes if c.entity == "price"} == prices
    assert all(c.position_id is not None for c in changes if c.entity == "nozzle")


def test_a_plain_copy_is_logged(engine: Engine, database_url: str) -> None:
    [station_id] = insert_records(engine, [station("COPY 站", 0)])
    start = _head(engine)
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.copy_expert(PRICE_COPY, price_copy(station_id, 500))
        conn.commit()
    finally:
        conn.close()
    changes, _ = follow(engine, start, limit=64)
    assert kinds(changes) == {("price", "I"): 500}
    assert {c.station_id for c in changes} == {station_id}


def test_the_stations_ingest_is_logged(engine: Engine, tmp_path: Path) -> None:
    header = (
        "source,external_id,name,brand,lon,lat,coord,opening_hours,services,grades,status,positions,adcode\n"
    )
    rows = [
        'own,CL1,变更测试站一,,121.47,31.23,,,,,open,"92,95;92,95",',
        "own,CL2,变更测试站二,,121.48,31.24,,,,,temporarily_closed,,",
    ]
    path = tmp_path / "own.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    start = _head(engine)
    summary = ingest(engine, "csv", path, tmp_path / "rejects.csv", batch_size=1)
    assert summary.counts.inserted == 2
    changes, _ = follow(engine, start)
    assert kinds(changes) == {
        ("station", "I"): 2,
        ("station_identifier", "I"): 2,
        ("position", "I"): 2,
        ("nozzle", "I"): 4,
    }
    assert len({c.seq for c in changes}) == 2
    assert {c.entity_key for c in changes if c.entity == "station_identifier"} == {"own/CL1", "own/CL2"}


def test_plain_sql_updates_deletes_and_truncates_are_logged(engine: Engine) -> None:
    equipped = {"positions": (("92", "95"), ("0",)), "identifiers": (("own", "CL-B"),)}
    [a, b] = insert_records(engine, [station("甲站", 0), station("乙站", 300, **equipped)])
    start = _head(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE stations SET status = 'temporarily_closed' WHERE id = :id"), {"id": a})
        conn.execute(text("UPDATE stations SET status = 'closed' WHERE false"))  # nothing: nothing logged
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM stations WHERE id = :id"), {"id": b})
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE member_levels"))
    changes, _ = follow(engine, start)
    first, deleted, truncated = sorted({c.seq for c in changes})
    assert [(c.entity, c.entity_id, c.op) for c in changes if c.seq == first] == [("station", a, "U")]
    gone = [c for c in changes if c.seq == deleted]
    assert ("station", b, "D") in {(c.entity, c.entity_id, c.op) for c in gone}
    # the cascade is logged too: identifiers, positions and nozzles of the deleted station
    assert {c.entity for c in gone} == {"station", "station_identifier", "position", "nozzle"}
    assert kinds(gone) == {
        ("station", "D"): 1,
        ("station_identifier", "D"): 1,
        ("position", "D"): 2,
        ("nozzle", "D"): 3,
    }
    assert {c.station_id for c in gone if c.entity != "nozzle"} == {b}
    assert [(c.entity, c.op, c.entity_id) for c in changes if c.seq == truncated] == [
        ("member_level", "T", None)
    ]
