"""Alembic environment of the order core: schema `ordercore`, version table ordercore.alembic_version.

Run by `python -m ordercore migrate` (ordercore/migrate.py passes the DSN in config.attributes).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

SCHEMA = "ordercore"
# Serialises concurrent migrations of the same database (two services or test processes starting).
LOCK_ID = 7_117_001

config = context.config


def _url() -> str:
    url = str(config.attributes["database_url"])
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        context.configure(
            connection=connection,
            target_metadata=None,
            version_table_schema=SCHEMA,
            include_schemas=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
