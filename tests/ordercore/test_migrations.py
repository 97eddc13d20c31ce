"""The order core's own Alembic environment: schema `ordercore`, its own version table, and the station
service's `alembic check` does not see it."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from tests.conftest import ROOT


def test_migrate_command_is_idempotent_and_versions_in_its_schema(
    ordercore_migrated: Engine, database_url: str
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("ORDERCORE_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "ordercore", "migrate"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "migrated to head" in result.stderr
    with ordercore_migrated.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM ordercore.alembic_version")).scalar_one() == "oc0002"
        )
        tables = set(
            conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'ordercore'")).scalars()
        )
    assert tables == {"alembic_version", "orders", "order_transitions", "invoice_requests", "outbox"}


def test_the_station_service_alembic_check_ignores_the_ordercore_schema(
    migrated_engine: Engine, ordercore_migrated: Engine, database_url: str
) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    os.environ["DATABASE_URL"] = database_url
    command.check(cfg)  # raises when the models and the database differ
    with migrated_engine.connect() as conn:
        versions = list(conn.execute(text("SELECT version_num FROM public.alembic_version")).scalars())
    assert not {"oc0001", "oc0002"} & set(versions)
