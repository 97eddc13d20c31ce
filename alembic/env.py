"""Alembic environment: the DSN comes from DATABASE_URL (or -x url=...), metadata from db.models."""

from __future__ import annotations

import os

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

import db.partner_feed_tables  # noqa: F401 (registers its tables on the metadata)
from db.models import metadata
from db.partitions import is_partition

config = context.config
target_metadata = metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set (or pass -x url=postgresql://...)")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # PostGIS owns these tables; they are not ours to migrate.
    if type_ == "table" and name in {"spatial_ref_sys"}:
        return False
    # The day partitions come and go with upkeep (db/partitions.py); the partitioned tables are in db.models.
    if type_ == "table" and reflected and is_partition(name):
        return False
    included: bool = alembic_helpers.include_object(obj, name, type_, reflected, compare_to)  # type: ignore[no-untyped-call]
    return included


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=_include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
