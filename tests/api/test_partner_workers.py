"""The partner rate limit and daily quota hold in total across workers: two real server processes (as two
API nodes or two uvicorn workers) share one key's bucket and one partner's day, because the state is in
PostgreSQL. The bucket refills so slowly (one token in ~11 days) that the machine's clock, which each
process reads, cannot change what the test sees."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from access import partners
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def server_process(database_url: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STATIONS_MODE": "development",
        "STATIONS_LOAD_INDEX": "false",
        "STATIONS_UPKEEP_EVERY_SECONDS": "0",
        "STATIONS_CHECKOUT_SWEEP_SECONDS": "0",
        "STATIONS_OCCUPANCY_POLL_SECONDS": "60",  # no tail contending with the tests' TRUNCATE
    }
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server process on {port} did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def two_servers(database_url: str, migrated_engine: Engine) -> Iterator[tuple[str, str]]:
    with server_process(database_url) as one, server_process(database_url) as two:
        yield one, two


def _hammer(bases: tuple[str, str], token: str, each: int) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}

    def run(base: str) -> list[int]:
        with httpx.Client(base_url=base, timeout=10) as client:
            return [client.get("/v1/partner/me", headers=headers).status_code for _ in range(each)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(run, [bases[0], bases[1], bases[0], bases[1]])
    return [code for codes in results for code in codes]


def test_one_bucket_for_the_key_across_two_processes(engine: Engine, two_servers: tuple[str, str]) -> None:
    account = partners.create_partner(engine, "高德", rate_per_second=1e-6, burst=10, daily_quota=None)
    token = partners.create_key(engine, account.partner_id, ["stations:read"]).token
    codes = _hammer(two_servers, token, each=6)  # 24 requests, 12 to each process, four at a time
    assert sorted(codes) == [200] * 10 + [429] * 14


def test_one_daily_quota_for_the_partner_across_two_processes_and_keys(
    engine: Engine, two_servers: tuple[str, str]
) -> None:
    account = partners.create_partner(engine, "比价", burst=100, daily_quota=7)
    one = partners.create_key(engine, account.partner_id, ["stations:read"]).token
    two = partners.create_key(engine, account.partner_id, ["stations:read"]).token
    codes = _hammer(two_servers, one, each=3) + _hammer(two_servers, two, each=3)
    assert codes.count(200) == 7 and codes.count(429) == 17


def test_a_revoked_key_stops_on_both_processes_at_once(engine: Engine, two_servers: tuple[str, str]) -> None:
    account = partners.create_partner(engine, "腾讯", daily_quota=None)
    issued = partners.create_key(engine, account.partner_id, ["stations:read"])
    headers = {"Authorization": f"Bearer {issued.token}"}
    for base in two_servers:  # each process has verified (and cached) the key
        assert httpx.get(f"{base}/v1/partner/me", headers=headers, timeout=10).status_code == 200
    assert partners.revoke_key(engine, issued.key_id, datetime.now(UTC))
    for base in two_servers:
        assert httpx.get(f"{base}/v1/partner/me", headers=headers, timeout=10).status_code == 401
