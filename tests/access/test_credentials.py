"""Per-station credentials: issue, verify, revoke; only a salted hash is stored."""

from __future__ import annotations

from sqlalchemy import Engine

from access.credentials import Staff, issue, revoke, verify
from tests.ingest.support import scalar
from tests.pricing.support import city_stations


def test_issue_verify_revoke(engine: Engine) -> None:
    ids = city_stations(engine, "kunming", "qujing")
    one, two = issue(engine, ids["kunming"]), issue(engine, ids["qujing"])
    assert verify(engine, one.token) == Staff(ids["kunming"], "station_admin")
    assert verify(engine, two.token) == Staff(ids["qujing"], "station_admin")
    key_id, secret = one.token.split(".", 1)
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM station_credentials WHERE secret_hash LIKE '%' || :s || '%'",
            s=secret,
        )
        == 0
    )
    assert verify(engine, f"{key_id}.{secret[:-1]}x") is None  # wrong secret
    assert verify(engine, f"{two.key_id}.{secret}") is None  # another key's secret
    assert verify(engine, "nosuchkey.secret") is None and verify(engine, "no-dot") is None
    assert revoke(engine, one.key_id) is True and revoke(engine, one.key_id) is False
    assert verify(engine, one.token) is None and verify(engine, two.token) == Staff(
        ids["qujing"], "station_admin"
    )
