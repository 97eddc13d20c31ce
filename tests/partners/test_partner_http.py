"""The partner routes over real HTTP against the real app: keys and scopes, the NDJSON snapshot (gzip,
the partner's coordinate system), the feed (long-poll woken by a commit, ETag / 304, 410 resync, 400),
POI ids (each partner its own), webhook subscriptions (secret shown once, replay)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, text

import changelog
from tests.partners.support import FIXED, at_head, partner_key, post_price, state_of, stations
from tests.support import LiveServer


def ndjson(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in body.splitlines()]


def test_snapshot_streams_ndjson_gzip_in_the_partners_system(server: LiveServer, engine: Engine) -> None:
    ids = stations(engine, 3)
    post_price(engine, ids[0], "7.89", FIXED)
    _, headers = partner_key(engine, "高德", coord="gcj02")
    plain = server.client.get("/v1/partner/snapshot", headers=headers)
    assert plain.status_code == 200, plain.text
    assert plain.headers["content-type"].startswith("application/x-ndjson")
    lines = ndjson(plain.content)
    assert lines[0]["type"] == "header" and lines[0]["coord"] == "gcj02"
    assert [x["station"]["id"] for x in lines[1:-1]] == ids
    assert lines[1]["station"]["location"]["lon"] != 102.71  # shifted into GCJ-02
    assert lines[-1]["type"] == "end" and lines[-1]["cursor"] == at_head(engine)
    zipped = server.client.get(
        "/v1/partner/snapshot", params={"coord": "wgs84"}, headers={**headers, "Accept-Encoding": "gzip"}
    )
    assert zipped.headers["content-encoding"] == "gzip"
    wgs = ndjson(zipped.content)
    assert wgs[1]["station"]["location"] == {"lon": 102.71, "lat": 25.04}
    assert state_of(wgs[1]["station"]) == {("92", "pump"): "7.89"}


def test_keys_and_scopes(server: LiveServer, engine: Engine) -> None:
    stations(engine, 1)
    assert server.client.get("/v1/partner/snapshot").status_code == 401
    _, feed_only = partner_key(engine, "feed-only", scopes=["feed:read"])
    refused = server.client.get("/v1/partner/snapshot", headers=feed_only)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/scope-missing"
    _, no_prices = partner_key(engine, "no-prices", scopes=["stations:read"])
    assert server.client.get("/v1/partner/snapshot", headers=no_prices).status_code == 403
    assert (
        server.client.get("/v1/partner/changes", params={"cursor": "c1.1.0"}, headers=no_prices).status_code
        == 403
    )


def test_feed_long_poll_answers_when_a_commit_lands(server: LiveServer, engine: Engine) -> None:
    ids = stations(engine, 1)
    _, headers = partner_key(engine, "poller")
    cursor = at_head(engine)
    answer: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            r = client.get("/v1/partner/changes", params={"cursor": cursor, "wait": 20}, headers=headers)
        answer.update(status=r.status_code, body=r.json(), seconds=time.monotonic() - started)

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)  # the poll is waiting (an early commit is answered at once, which the test also accepts)
    post_price(engine, ids[0], "7.55", FIXED)
    thread.join(timeout=25)
    assert answer["status"] == 200
    assert answer["seconds"] < 10  # woken by the commit, not the 20 s timeout
    (item,) = answer["body"]["items"]
    assert item["station_id"] == ids[0] and item["changed"] == ["price"]
    assert state_of(item["station"]) == {("92", "pump"): "7.55"}


def test_feed_etag_304_gone_and_bad_cursors(server: LiveServer, engine: Engine) -> None:
    ids = stations(engine, 1)
    _, headers = partner_key(engine, "etag")
    cursor = at_head(engine)
    first = server.client.get("/v1/partner/changes", params={"cursor": cursor}, headers=headers)
    assert first.status_code == 200 and first.json()["items"] == [] and first.json()["cursor"] == cursor
    etag = first.headers["etag"]
    unchanged = server.client.get(
        "/v1/partner/changes",
        params={"cursor": cursor, "wait": 1},
        headers={**headers, "If-None-Match": etag},
    )
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == etag
    post_price(engine, ids[0], "7.60", FIXED)
    changed = server.client.get(
        "/v1/partner/changes", params={"cursor": cursor}, headers={**headers, "If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert len(changed.json()["items"]) == 1
    changelog.prune(engine, timedelta(0), FIXED + timedelta(days=3650))
    gone = server.client.get("/v1/partner/changes", params={"cursor": cursor}, headers=headers)
    assert gone.status_code == 410 and gone.json()["type"] == "/problems/resync-required"
    for bad in ("c1.0.0", "nope", "c1.99999999999999999999.0"):
        r = server.client.get("/v1/partner/changes", params={"cursor": bad}, headers=headers)
        assert r.status_code == 400, (bad, r.text)
    r = server.client.get("/v1/partner/changes", params={"cursor": cursor, "since": "x"}, headers=headers)
    assert r.status_code == 400 and r.json()["type"] == "/problems/unknown-parameter"
    r = server.client.get("/v1/partner/changes", params={"cursor": cursor, "wait": 31}, headers=headers)
    assert r.status_code == 400


def test_poi_ids_belong_to_their_partner(server: LiveServer, engine: Engine) -> None:
    ids = stations(engine, 2)
    amap, amap_headers = partner_key(engine, "amap")
    _, tencent_headers = partner_key(engine, "tencent")
    path = f"/v1/partner/stations/{ids[0]}/poi-id"
    assert server.client.put(path, json={"poi_id": "B0FF-1"}, headers=amap_headers).status_code == 200
    assert server.client.put(path, json={"poi_id": "T-77"}, headers=tencent_headers).status_code == 200
    taken = server.client.put(
        f"/v1/partner/stations/{ids[1]}/poi-id", json={"poi_id": "B0FF-1"}, headers=amap_headers
    )
    assert taken.status_code == 409 and taken.json()["type"] == "/problems/poi-id-taken"
    found = server.client.get("/v1/partner/stations/by-poi/B0FF-1", headers=amap_headers)
    assert found.status_code == 200 and found.json()["station"]["id"] == ids[0]
    assert found.json()["station"]["poi_id"] == "B0FF-1"
    assert server.client.get("/v1/partner/stations/by-poi/B0FF-1", headers=tencent_headers).status_code == 404
    theirs = server.client.get("/v1/partner/stations/by-poi/T-77", headers=tencent_headers).json()
    assert theirs["station"]["poi_id"] == "T-77"
    snap = ndjson(server.client.get("/v1/partner/snapshot", headers=amap_headers).content)
    assert {x["station"]["id"]: x["station"]["poi_id"] for x in snap[1:-1]} == {
        ids[0]: "B0FF-1",
        ids[1]: None,
    }
    missing = server.client.put(
        "/v1/partner/stations/999999/poi-id", json={"poi_id": "x"}, headers=amap_headers
    )
    assert missing.status_code == 404
    assert server.client.delete(path, headers=amap_headers).json() == {"station_id": ids[0], "poi_id": None}
    assert server.client.delete(path, headers=amap_headers).status_code == 404
    with engine.connect() as conn:
        left = conn.execute(text("SELECT partner_id, poi_id FROM partner_poi_ids")).all()
    assert amap not in {p for p, _ in left} and [i for _, i in left] == ["T-77"]


def test_webhook_subscriptions_over_http(server: LiveServer, engine: Engine) -> None:
    stations(engine, 1)
    _, headers = partner_key(engine, "hooks", coord="bd09")
    body = {"url": "http://127.0.0.1:9/hooks", "adcode": "530100", "grades": ["92#"], "threshold": "0.05"}
    created = server.client.post("/v1/partner/webhooks", json=body, headers=headers)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_") and sub["grades"] == ["92"] and sub["coord"] == "bd09"
    assert sub["threshold"] == "0.05" and sub["active"] and sub["tiers"] == ["pump"]
    listed = server.client.get("/v1/partner/webhooks", headers=headers).json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    for bad in (
        {"url": "ftp://x"},
        {"url": "http://x", "threshold": 0.05},
        {"url": "http://x", "grades": ["999"]},
    ):
        assert server.client.post("/v1/partner/webhooks", json=bad, headers=headers).status_code == 400, bad
    replayed = server.client.post(
        f"/v1/partner/webhooks/{sub['id']}/replay", json={"cursor": at_head(engine)}, headers=headers
    )
    assert replayed.status_code == 200 and replayed.json()["enqueued"] == 0
    _, other = partner_key(engine, "someone-else")
    assert server.client.get(f"/v1/partner/webhooks/{sub['id']}", headers=other).status_code == 404
    assert server.client.delete(f"/v1/partner/webhooks/{sub['id']}", headers=headers).status_code == 200
    assert server.client.get(f"/v1/partner/webhooks/{sub['id']}", headers=headers).status_code == 404
