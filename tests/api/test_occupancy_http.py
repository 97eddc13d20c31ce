"""Occupancy over real HTTP: ingest rules, credentials, live state, staleness, claims, restart."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import Engine, text

from access.credentials import revoke
from occupancy.claims import claim_position
from occupancy.errors import ClaimConflict, UnknownPosition
from tests.occupancy.support import at, event, forecourt_station, session, stations_with_tokens
from tests.support import LiveServer, live_server


@pytest.fixture
def two(engine: Engine, server: LiveServer) -> list[tuple[int, str]]:
    made = stations_with_tokens(engine, [forecourt_station("A"), forecourt_station("B", 300)])
    server.wait_for_catalogue()
    return made


def post(server: LiveServer, token: str | None, items: Any, ndjson: bool = False) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if ndjson:
        headers["Content-Type"] = "application/x-ndjson"
        content = b"\n".join(orjson.dumps(i) for i in items) + b"\n"
    else:
        headers["Content-Type"] = "application/json"
        content = orjson.dumps(items) if not isinstance(items, bytes) else items
    return server.client.post("/v1/occupancy/events", content=content, headers=headers)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def statuses(server: LiveServer, station_id: int, **params: Any) -> dict[int, str]:
    body = ok(server.get(f"/v1/stations/{station_id}/occupancy", **params))
    return {p["number"]: p["status"] for p in body["positions"]}


def eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reflected in time"
        time.sleep(0.05)


def test_batch_applies_the_good_items_and_rejects_the_rest_by_index(
    server: LiveServer, two: list[tuple[int, str]]
) -> None:
    (a, token), (b, _) = two
    good = session(a, 1, 1, 1, 200, ("calling", "authorized", "fueling"))
    items = [
        *good,
        event(a, 9, 1, "calling", 1, at(100)),  # 3: no position 9
        event(a, 3, 2, "calling", 1, at(100)),  # 4: position 3 has one nozzle
        event(b, 1, 1, "calling", 1, at(100)),  # 5: another station
        event(a, 2, 1, "idle", 1, at(100)),
        event(a, 2, 1, "fueling", 2, at(90)),  # 7: idle -> fueling
        event(a, 2, 2, "calling", 1, at(-3600)),  # 8: an hour ahead
        event(a, 2, 3, "parked", 1, at(50)),  # 9: no such state
        {"station_id": a, "position": 2, "nozzle": 3, "seq": 1},  # 10: no state, no ts
        [1, 2],  # 11: not an object
        event(a, 2, 3, "calling", 1, "2026-11-22 08:00"),  # 12: no offset
        event(a, 2, 3, "calling", 5, at(80)),
        event(a, 2, 3, "authorized", 6, at(95)),  # 14: time goes back
        event(a, 2, 2, "calling", 2, at(16 * 86_400)),  # 15: older than the 15 days of retention
    ]
    body = ok(post(server, token, items))
    codes = {r["index"]: r["code"] for r in body["rejects"]}
    assert codes == {
        3: "unknown_position",
        4: "unknown_nozzle",
        5: "other_station",
        7: "impossible_transition",
        8: "future_ts",
        9: "invalid_field",
        10: "missing_field",
        11: "invalid_item",
        12: "invalid_field",
        14: "ts_order",
        15: "expired_ts",
    }
    assert all(r["reason"] for r in body["rejects"])
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (5, 0, 11)
    assert statuses(server, a) == {1: "occupied", 2: "occupied", 3: "unknown"}  # 3 never reported

    again = ok(post(server, token, good))
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 3, 0)
    conflict = ok(post(server, token, [event(a, 1, 1, "idle", 2, at(180))]))
    assert [r["code"] for r in conflict["rejects"]] == ["seq_conflict"]


def test_events_are_applied_in_seq_order_within_and_across_batches(
    server: LiveServer, two: list[tuple[int, str]]
) -> None:
    (a, token), _ = two
    s = session(a, 2, 3, 10, 300)  # seq 10..14: calling, authorized, fueling, completed, idle
    assert ok(post(server, token, [s[2], s[0], s[1]]))["accepted"] == 3
    assert statuses(server, a)[2] == "occupied"
    assert ok(post(server, token, [s[4]]))["accepted"] == 1  # seq 14 across a gap
    assert statuses(server, a)[2] == "free"
    late_bad = event(a, 2, 3, "calling", 13, s[3]["ts"])  # fueling(12) -> calling(13) is impossible
    assert [r["code"] for r in ok(post(server, token, [late_bad]))["rejects"]] == ["impossible_transition"]
    late = ok(post(server, token, [s[3]]))  # the real seq 13 arrives last
    assert (late["accepted"], late["rejected"]) == (1, 0)
    before = s[2]["ts"]
    assert statuses(server, a, as_of=before)[2] == "occupied"


def test_ndjson_and_unreadable_bodies(server: LiveServer, two: list[tuple[int, str]]) -> None:
    (a, token), _ = two
    items = [
        *session(a, 1, 2, 1, 100, ("calling", "authorized")),
        {"station_id": a, "waiting_vehicles": 3, "ts": at(30)},
    ]
    body = ok(post(server, token, items, ndjson=True))
    assert (body["accepted"], body["rejected"]) == (3, 0)
    assert ok(server.get(f"/v1/stations/{a}/occupancy"))["waiting_vehicles"] == 3
    for bad in (b'[{"station_id": 1,', b'{"station_id": 1}', b"not json"):
        response = post(server, token, bad)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/unreadable-batch"
    broken = server.client.post(
        "/v1/occupancy/events",
        content=b'{"a": 1}\n{oops\n',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
    )
    assert broken.status_code == 400 and "line 2" in broken.json()["detail"]


def test_too_large_batches_are_refused_and_nothing_is_stored(
    server: LiveServer, two: list[tuple[int, str]]
) -> None:
    (a, token), _ = two
    many = [event(a, 1, 1, "calling" if i % 2 else "idle", i, at(20_000 - i)) for i in range(10_001)]
    response = post(server, token, many)
    assert response.status_code == 413 and response.json()["type"] == "/problems/batch-too-large"
    huge = post(server, token, b"[" + b" " * 5_000_000 + b"]")
    assert huge.status_code == 413
    assert statuses(server, a) == {1: "unknown", 2: "unknown", 3: "unknown"}


def test_credentials(server: LiveServer, two: list[tuple[int, str]]) -> None:
    (a, token_a), (b, token_b) = two
    items = session(a, 1, 1, 1, 100, ("calling",))
    for token in (None, "nope", token_a.split(".")[0] + ".wrong-secret"):
        response = post(server, token, items)
        assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    other = ok(post(server, token_b, items))
    assert other["accepted"] == 0 and [r["code"] for r in other["rejects"]] == ["other_station"]


def test_silent_station_is_unknown_not_free(server: LiveServer, two: list[tuple[int, str]]) -> None:
    (a, token), (b, _) = two
    ok(
        post(
            server, token, session(a, 1, 1, 1, 900, ("calling", "authorized", "fueling", "completed", "idle"))
        )
    )
    body = ok(server.get(f"/v1/stations/{a}/occupancy"))  # last event 820 s ago > 300 s
    assert body["stale"] is True and {p["status"] for p in body["positions"]} == {"unknown"}
    fresh = ok(server.get(f"/v1/stations/{a}/occupancy", as_of=at(815)))
    assert fresh["stale"] is False and [p["status"] for p in fresh["positions"]] == [
        "free",
        "unknown",
        "unknown",
    ]
    never = ok(server.get(f"/v1/stations/{b}/wait", grade="95"))
    assert never["stale"] is True and never["basis"] == "history_only" and never["suggested_position"] is None


def test_wait_answers_and_problems(server: LiveServer, two: list[tuple[int, str]]) -> None:
    (a, token), _ = two
    ok(
        post(
            server,
            token,
            [
                *session(a, 1, 2, 1, 120, ("calling", "authorized", "fueling")),
                *session(a, 2, 1, 1, 60, ("calling",)),
                event(a, 3, 1, "idle", 1, at(200)),
            ],
        )
    )
    wait = ok(server.get(f"/v1/stations/{a}/wait", grade="95#"))
    assert wait["grade"] == "95" and wait["stale"] is False
    assert (wait["busy_positions"], wait["total_positions"]) == (2, 2)
    assert wait["minutes"] >= 0 and wait["p10_minutes"] <= wait["p90_minutes"]
    assert wait["suggested_position"] is None
    diesel = ok(server.get(f"/v1/stations/{a}/wait", grade="0"))
    assert diesel["suggested_position"] == 3 and diesel["minutes"] == 0
    detail = ok(server.get(f"/v1/stations/{a}", grade="0"))
    assert detail["suggested_position"] == 3 and detail["occupancy"]["positions"]["occupied"] == 2
    for path, params, status in (
        ("/v1/stations/999/wait", {"grade": "95"}, 404),
        (f"/v1/stations/{a}/wait", {"grade": "diesel-x"}, 400),
        (f"/v1/stations/{a}/wait", {"grade": "98"}, 422),
        (f"/v1/stations/{a}/wait", {"grade": "95", "as_of": "yesterday"}, 400),
        (f"/v1/stations/{a}/wait", {"grade": "95", "as_of": "2026-11-22T08:00:00"}, 400),
        ("/v1/stations/999/occupancy", {}, 404),
    ):
        response = server.get(path, **params)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_events_stored_by_another_worker_reach_this_one(
    server: LiveServer, two: list[tuple[int, str]], engine: Engine
) -> None:
    (a, _), _ = two
    assert statuses(server, a)[3] == "unknown"
    with engine.begin() as conn:  # as the other worker's ingest would, behind this one's back
        conn.execute(
            text(
                "INSERT INTO occupancy_events (station_id, position, nozzle, seq, state, ts) "
                "VALUES (:a, 3, 1, 1, 'calling', :ts)"
            ),
            {"a": a, "ts": server.clock.now() - timedelta(seconds=5)},
        )
    eventually(lambda: statuses(server, a)[3] == "occupied")


def test_claims_hold_a_position_until_the_pump_reports(
    server: LiveServer, two: list[tuple[int, str]], engine: Engine
) -> None:
    (a, token), _ = two
    ok(post(server, token, [event(a, p, 1, "idle", 1, at(60)) for p in (1, 2, 3)]))
    with engine.begin() as conn:
        claim_position(conn, a, 2, "order-1", server.clock.now())
        claim_position(conn, a, 2, "order-1", server.clock.now())  # idempotent
        with pytest.raises(UnknownPosition):
            claim_position(conn, a, 7, "order-2", server.clock.now())
        with pytest.raises(ClaimConflict):
            claim_position(conn, a, 3, "order-1", server.clock.now())

    def claimed() -> bool:
        body = ok(server.get(f"/v1/stations/{a}/occupancy"))
        second: dict[str, Any] = body["positions"][1]
        # Public: claimed, never by which order (nor anything naming it).
        return second["status"] == "claimed" and "order-1" not in orjson.dumps(body).decode()

    eventually(claimed)
    ok(post(server, token, [event(a, 2, 1, "calling", 2, at(0))]))
    assert statuses(server, a)[2] == "occupied"


def test_a_restarted_service_answers_the_same(
    server: LiveServer, two: list[tuple[int, str]], engine: Engine, database_url: str
) -> None:
    (a, token), _ = two
    ok(
        post(
            server,
            token,
            [
                *session(a, 1, 1, 1, 100, ("calling", "authorized", "fueling")),
                *session(a, 3, 1, 1, 50, ("calling", "authorized", "fueling", "completed", "idle"), 5),
            ],
        )
    )
    as_of = at(0)
    before = ok(server.get(f"/v1/stations/{a}/occupancy", as_of=as_of))
    with live_server(database_url, engine) as fresh:
        after = ok(fresh.get(f"/v1/stations/{a}/occupancy", as_of=as_of))
    assert after == before
    assert [p["status"] for p in after["positions"]] == ["occupied", "unknown", "free"]  # 2 never reported


def test_a_revoked_credential_stops_working_within_the_cache_time(
    two: list[tuple[int, str]], engine: Engine, database_url: str
) -> None:
    (a, token), _ = two
    with live_server(database_url, engine, station_auth_cache_seconds=30) as fresh:
        fresh.clock.set(fresh.clock.now())  # stopped: only the test ages the cache entry
        items = [event(a, 1, 1, "idle", 1, at(10))]
        assert ok(post(fresh, token, items))["accepted"] == 1
        assert revoke(engine, token.split(".")[0])
        # Remembered for 30 s: the revoked credential still works, so it was not checked again.
        assert ok(post(fresh, token, items))["duplicates"] == 1
        fresh.clock.advance(timedelta(seconds=29))
        assert ok(post(fresh, token, items))["duplicates"] == 1
        fresh.clock.advance(timedelta(seconds=2))  # older than the cache time: checked again, and refused
        response = post(fresh, token, items)
        assert response.status_code == 401 and response.json()["type"] == "/problems/unauthorized"


def test_a_moment_older_than_the_kept_events_is_refused_not_answered_stale(
    server: LiveServer, two: list[tuple[int, str]]
) -> None:
    (a, token), _ = two
    now = server.clock.now()
    beats = [event(a, 1, 1, "idle", k + 1, at(4 * 3600 - k * 300, now)) for k in range(49)]  # 4 h to now
    assert ok(post(server, token, beats))["accepted"] == 49
    recent = ok(server.get(f"/v1/stations/{a}/wait", grade="92", as_of=at(60, now)))
    assert recent["stale"] is False
    for path, params in ((f"/v1/stations/{a}/wait", {"grade": "92"}), (f"/v1/stations/{a}/occupancy", {})):
        old = server.get(path, **params, as_of=at(3 * 3600, now))
        assert old.status_code == 422 and old.json()["type"] == "/problems/as-of-not-retained", old.text
        assert "or later" in old.json()["detail"]


def test_wait_forecast_per_half_hour(server: LiveServer, two: list[tuple[int, str]]) -> None:
    (a, token), _ = two
    ok(
        post(
            server,
            token,
            [
                *session(a, 1, 2, 1, 120, ("calling", "authorized", "fueling")),
                *session(a, 2, 1, 1, 60, ("calling",)),
                event(a, 3, 1, "idle", 1, at(200)),
            ],
        )
    )
    as_of = at(0)
    body = ok(server.get(f"/v1/stations/{a}/wait/forecast", grade="95", hours=3, as_of=as_of))
    assert (body["station_id"], body["grade"], body["hours"], body["stale"]) == (a, "95", 3, False)
    marks = [datetime.fromisoformat(h["at"]) for h in body["half_hours"]]
    assert len(marks) == 6
    start = datetime.fromisoformat(as_of)
    assert timedelta(0) < marks[0] - start <= timedelta(minutes=30)
    assert all(b - a_ == timedelta(minutes=30) for a_, b in zip(marks, marks[1:], strict=False))
    assert all(m.minute in (0, 30) and m.second == 0 for m in marks)
    for h in body["half_hours"]:
        assert 0 <= h["p10_minutes"] <= h["p90_minutes"] and h["minutes"] >= 0
        assert h["arrival_rate_per_hour"] > 0 and isinstance(h["holiday"], bool)
    again = ok(server.get(f"/v1/stations/{a}/wait/forecast", grade="95", hours=3, as_of=as_of))
    assert again == body  # a function of the events and as_of
    assert len(ok(server.get(f"/v1/stations/{a}/wait/forecast", grade="0"))["half_hours"]) == 48
    for params, status in (
        ({"grade": "95", "hours": 49}, 400),
        ({"grade": "95", "hours": 0}, 400),
        ({"grade": "diesel-x"}, 400),
        ({"grade": "98"}, 422),
        ({"grade": "95", "days": 1}, 400),
    ):
        response = server.get(f"/v1/stations/{a}/wait/forecast", **params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert server.get("/v1/stations/999/wait/forecast", grade="95").status_code == 404
