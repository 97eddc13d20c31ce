"""Schemathesis (`--checks all`) over every operation of /openapi.json against the live server.

Each operation gets its examples, the coverage phase (boundary values, missing headers, undeclared
methods) and a few fuzzed cases; the run is seeded and deterministic, so a finding repeats. A finding is a
place where the service and its contract disagree: fix the route or the contract, never this test.

The CLI runs in a subprocess (schemathesis' pytest plugin does not run under pytest 9) against the
server this test process serves over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from access.credentials import issue
from tests.occupancy.support import forecourt_station
from tests.partners.support import partner_key
from tests.support import LiveServer, driver_token, insert_records

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "dev-operator-token"
# 422 is a well-formed request the current state refuses (no current price, a grade the station does not
# sell, an unknown nozzle) and 410 an expired quote: a schema cannot promise which stations have prices.
CONFIG = """
seed = 20261122
[generation]
max-examples = {examples}
deterministic = true
database = "none"
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "410", "422"]
[auth.openapi.operatorToken]
bearer = "{operator}"
[auth.openapi.stationCredential]
bearer = "{station}"
[auth.openapi.driverToken]
bearer = "{driver}"
[auth.openapi.partnerKey]
bearer = "{partner}"
# A quote token is opaque: only one this service issued (and stored) is valid, which no schema can
# describe, so a well-formed token it never issued (400 invalid-quote) counts as accepted here.
[[operations]]
include-operation-id = ["verifyQuote", "createCheckout"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "410", "422"]
# So is the order list's cursor: one the service did not issue is a 400 invalid-parameter.
[[operations]]
include-operation-id = ["myOrders"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "410", "422"]

# The feed's long-poll holds an empty answer up to `wait` seconds (nothing commits during the run): asked
# without it, or every generated case would wait out the request timeout. A well-formed cursor older than
# the retention is a 410; one past the head an empty page.
[[operations]]
include-operation-id = ["partnerChanges"]
parameters = {{ "query.wait" = 0 }}

# A route's length (at most 1,000 km) and its distinct points are properties of the whole polyline or
# coordinate list that no JSON schema can state: a well-formed route that is too long or has one point
# repeated is 400 invalid-route.
[[operations]]
include-operation-id = ["routeStations"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "404"]

# A subscription's grades, and the partner waits' grade, are names the grade table resolves (aliases
# such as 95# included), which a schema pattern cannot list exactly: an unknown name is a 400 unknown-grade.
[[operations]]
include-operation-id = ["createPartnerWebhook", "partnerWaits"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422"]
"""


def run_schemathesis(server: LiveServer, engine: Engine, tmp_path: Path, *selection: str) -> None:
    (station_id,) = insert_records(engine, [forecourt_station("契约站")])
    token = issue(engine, station_id).token
    server.wait_for_catalogue()
    config = tmp_path / "schemathesis.toml"
    driver = driver_token("contract-driver", server.clock)
    _, partner = partner_key(engine, "契约伙伴")
    config.write_text(
        CONFIG.format(
            examples=10,
            operator=OPERATOR_TOKEN,
            station=token,
            driver=driver,
            partner=partner["Authorization"].removeprefix("Bearer "),
        )
    )
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{server.base_url}/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        # Hypothesis times its own data generation: on a loaded machine a rich query schema trips the
        # too_slow health check, which says nothing about the service or its contract.
        "--suppress-health-check=too_slow",
        *selection,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    print(done.stdout, done.stderr)  # the findings, shown by pytest when the test fails
    assert done.returncode == 0, "schemathesis found a disagreement: see the captured stdout"
    assert "No issues found" in done.stdout or "passed" in done.stdout, done.stdout[-4000:]


def test_every_operation_conforms(server: LiveServer, engine: Engine, tmp_path: Path) -> None:
    run_schemathesis(server, engine, tmp_path)
