"""Settings, read from the environment only here (never at import time of other modules).

DATABASE_URL names the PostGIS database; every other variable has the STATIONS_ prefix.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STATIONS_", extra="ignore")

    database_url: SecretStr = Field(
        default=SecretStr("postgresql://stations@127.0.0.1:55432/stations"),
        validation_alias="DATABASE_URL",
    )
    # How often each worker checks the catalogue version and reloads its in-memory index.
    index_refresh_seconds: float = 5.0
    # Load the in-memory search index at start-up (tests of other routes may switch it off).
    load_index: bool = True
    db_pool_size: int = 5
    default_timezone: str = "Asia/Shanghai"

    def dsn(self) -> str:
        return self.database_url.get_secret_value()
