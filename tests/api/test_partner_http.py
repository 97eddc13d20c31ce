"""Partner routes over real HTTP: the key (401), the scope (403), the rate limit and the daily quota (429
with RateLimit headers and Retry-After, on the server's clock), usage, revocation on the next request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from access import partners
from tests.support import LiveServer

# 08:00 in China (00:00 UTC): a China day starts at 16:00 UTC the day before.
MORNING = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def _key(engine: Engine, scopes: list[str], **account: object) -> tuple[int, str]:
    made = partners.create_partner(engine, str(account.pop("name", "高德")), **account)  # type: ignore[arg-type]
    return made.partner_id, partners.create_key(engine, made.partner_id, scopes).token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_me_needs_a_live_key_with_the_scope(server: LiveServer, engine: Engine) -> None:
    partner_id, token = _key(engine, ["stations:read", "feed:read"], coord="gcj02", language="en")
    _, feed_only = _key(engine, ["feed:read"], name="比价")
    missing = server.client.get("/v1/partner/me")
    assert missing.status_code == 401 and missing.json()["type"] == "/problems/partner-unauthorized"
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = server.client.get("/v1/partner/me", headers=_bearer(token[:-2] + "zz"))
    assert wrong.status_code == 401
    station_credential_shape = server.client.get("/v1/partner/me", headers=_bearer("0123456789abcdef.x"))
    assert station_credential_shape.status_code == 401
    refused = server.client.get("/v1/partner/me", headers=_bearer(feed_only))
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/scope-missing"
    me = server.client.get("/v1/partner/me", headers=_bearer(token))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["partner_id"] == partner_id and body["coord"] == "gcj02" and body["language"] == "en"
    assert body["scopes"] == ["feed:read", "stations:read"]
    assert body["licence"] and body["attribution"]
    assert body["today"]["served"] == 1
    assert me.headers["cache-control"] == "private, no-store"
    assert int(me.headers["ratelimit-limit"]) == partners.DEFAULT_BURST
    assert int(me.headers["ratelimit-remaining"]) == partners.DEFAULT_BURST - 1
    # public routes carry no rate-limit fields
    assert "ratelimit-limit" not in server.client.get("/healthz").headers


def test_bucket_refuses_then_refills_on_the_servers_clock(server: LiveServer, engine: Engine) -> None:
    server.clock.set(MORNING)
    _, token = _key(engine, ["stations:read"], rate_per_second=0.5, burst=3)
    answers = [server.client.get("/v1/partner/me", headers=_bearer(token)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    assert refused.json()["type"] == "/problems/rate-limited"
    assert refused.headers["retry-after"] == "2"  # one token at 0.5 a second
    server.clock.advance(timedelta(seconds=1))
    assert server.client.get("/v1/partner/me", headers=_bearer(token)).status_code == 429  # half a token
    server.clock.advance(timedelta(seconds=1))
    again = server.client.get("/v1/partner/me", headers=_bearer(token))
    assert again.status_code == 200 and again.headers["ratelimit-remaining"] == "0"
    assert again.headers["ratelimit-reset"] == "6"  # three tokens to the full bucket at 0.5 a second


def test_daily_quota_counts_the_china_day(server: LiveServer, engine: Engine) -> None:
    late = datetime(2026, 12, 2, 15, 59, 0, tzinfo=UTC)  # 23:59 in China
    server.clock.set(late)
    _, token = _key(engine, ["stations:read"], daily_quota=2, burst=10)
    codes = [server.client.get("/v1/partner/me", headers=_bearer(token)).status_code for _ in range(2)]
    refused = server.client.get("/v1/partner/usage", headers=_bearer(token))
    assert codes == [200, 200] and refused.status_code == 429
    assert refused.json()["type"] == "/problems/daily-quota-exceeded"
    assert refused.headers["retry-after"] == "60" and refused.headers["ratelimit-limit"] == "2"
    server.clock.advance(timedelta(seconds=61))  # 00:00:01 on 3 December in China
    usage = server.client.get("/v1/partner/usage", headers=_bearer(token), params={"days": 2})
    assert usage.status_code == 200, usage.text
    body = usage.json()
    assert body["days"] == [
        {"day": "2026-12-03", "served": 1, "refused": 0},
        {"day": "2026-12-02", "served": 2, "refused": 1},
    ]
    assert body["quota_left_today"] == 1 and body["limits"]["daily_quota"] == 2
    assert (
        server.client.get("/v1/partner/usage", params={"days": 0}, headers=_bearer(token)).status_code == 400
    )
    assert (
        server.client.get("/v1/partner/usage", params={"dayz": 1}, headers=_bearer(token)).status_code == 400
    )


def test_revocation_and_rotation_take_effect_on_the_next_request(server: LiveServer, engine: Engine) -> None:
    server.clock.set(MORNING)
    _, token = _key(engine, ["stations:read"])
    assert server.client.get("/v1/partner/me", headers=_bearer(token)).status_code == 200  # cached now
    key_id = token.split(".")[0]
    new = partners.rotate_key(engine, key_id, MORNING, timedelta(minutes=10))
    assert server.client.get("/v1/partner/me", headers=_bearer(token)).status_code == 200  # overlap
    server.clock.advance(timedelta(minutes=10))
    assert server.client.get("/v1/partner/me", headers=_bearer(token)).status_code == 401  # expired
    assert server.client.get("/v1/partner/me", headers=_bearer(new.token)).status_code == 200
    assert partners.revoke_key(engine, new.key_id, MORNING)
    assert server.client.get("/v1/partner/me", headers=_bearer(new.token)).status_code == 401
