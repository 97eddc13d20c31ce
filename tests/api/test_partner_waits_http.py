"""Partner waits over real HTTP (scope waits:read): the current waits of the stations that report, equal
to each station's own /wait at the page's moment, paged by station id, filtered to those that reported
after `reported_since`; the scope, an unknown grade and an unreadable moment are problems."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine

from tests.occupancy.support import at, event, forecourt_station, session, stations_with_tokens
from tests.partners.support import partner_key
from tests.support import LiveServer


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _post(server: LiveServer, token: str, items: list[dict[str, Any]]) -> None:
    answer = _ok(
        server.client.post("/v1/occupancy/events", json=items, headers={"Authorization": f"Bearer {token}"})
    )
    assert answer["accepted"] == len(items), answer


def test_partner_waits_sweep_filter_and_page(server: LiveServer, engine: Engine) -> None:
    made = stations_with_tokens(
        engine,
        [
            forecourt_station("甲站"),
            forecourt_station("乙站", 300),
            forecourt_station("柴油站", 600, positions=(("0",),)),
            forecourt_station("沉默站", 900),
        ],
    )
    server.wait_for_catalogue()
    (a, ta), (b, tb), (diesel, td), (silent, _) = made
    _post(server, ta, [*session(a, 1, 1, 1, 900, ("calling", "authorized", "fueling"))])
    _post(server, tb, [*session(b, 2, 1, 1, 60, ("calling", "authorized", "fueling"))])
    _post(server, td, [event(diesel, 1, 1, "idle", 1, at(30))])
    _, headers = partner_key(engine, "等候伙伴")

    page = _ok(server.client.get("/v1/partner/waits", params={"grade": "92#"}, headers=headers))
    assert page["grade"] == "92" and page["reported_since"] is None and page["next_after"] is None
    assert [w["station_id"] for w in page["items"]] == [a, b]  # no 92 at the diesel station; silent: none
    assert page["licence"] and page["attribution"]
    for item in page["items"]:
        own = _ok(server.get(f"/v1/stations/{item['station_id']}/wait", grade="92", as_of=page["as_of"]))
        assert item == own

    lately = _ok(server.client.get("/v1/partner/waits", params={"reported_since": at(300)}, headers=headers))
    assert [w["station_id"] for w in lately["items"]] == [b]
    assert lately["reported_since"] is not None

    seen: list[int] = []
    after = 0
    for _ in range(5):
        one = _ok(
            server.client.get("/v1/partner/waits", params={"limit": 1, "after": after}, headers=headers)
        )
        seen += [w["station_id"] for w in one["items"]]
        if one["next_after"] is None:
            break
        after = one["next_after"]
    assert seen == [a, b] and silent not in seen

    diesel_page = _ok(server.client.get("/v1/partner/waits", params={"grade": "0"}, headers=headers))
    assert [w["station_id"] for w in diesel_page["items"]] == [a, b, diesel]  # position 2 sells diesel


def test_partner_waits_problems(server: LiveServer, engine: Engine) -> None:
    _, no_waits = partner_key(engine, "无等候", scopes=("stations:read", "feed:read"))
    _, headers = partner_key(engine, "等候伙伴二")
    for params, head, status, slug in (
        ({}, no_waits, 403, "scope-missing"),
        ({}, {}, 401, "partner-unauthorized"),
        ({"grade": "柴油-x"}, headers, 400, "unknown-grade"),
        ({"reported_since": "2026-11-22T08:00:00"}, headers, 400, "invalid-parameter"),
        ({"limit": 0}, headers, 400, "invalid-parameter"),
    ):
        response = server.client.get("/v1/partner/waits", params=params, headers=head)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == f"/problems/{slug}"
    unreadable = server.client.get(
        "/v1/partner/waits", params={"reported_since": "yesterday"}, headers=headers
    ).json()
    assert [e["name"] for e in unreadable["errors"]] == ["reported_since"]
