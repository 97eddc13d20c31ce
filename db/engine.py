"""Engine construction. The DSN comes from settings; it is never logged with its password."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine


def make_engine(database_url: str, *, pool_size: int = 5) -> Engine:
    url = database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, future=True)
