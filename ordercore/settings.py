"""Order-core settings: env prefix ORDERCORE_, except the database, which defaults to DATABASE_URL.

Only this module reads the environment, and only when OrdercoreSettings() is built.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class OrdercoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERCORE_", extra="ignore", populate_by_name=True)

    # ORDERCORE_DATABASE_URL, else the station service's DATABASE_URL (same database, schema `ordercore`).
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://stations@127.0.0.1:55432/stations"),
        validation_alias=AliasChoices("ORDERCORE_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    host: str = "127.0.0.1"
    port: int = 8001
    db_pool_size: int = 5
    # Bearer token of every /v1 and /sandbox call. The defaults are for local runs only.
    api_token: SecretStr = SecretStr("dev-ordercore-token")
    callback_url: str = "http://127.0.0.1:8000/v1/ordercore/events"
    callback_secret: SecretStr = SecretStr("dev-callback-secret")
    callback_timeout_seconds: float = Field(default=5.0, gt=0)
    # Exponential backoff of failed deliveries: base * 2**(attempts-1), capped.
    callback_backoff_base_seconds: float = Field(default=0.5, gt=0)
    callback_backoff_cap_seconds: float = Field(default=60.0, gt=0)
    # How often the sender looks for due outbox events, and the expiry sweep runs.
    outbox_poll_seconds: float = Field(default=0.2, gt=0)
    expiry_sweep_seconds: float = Field(default=2.0, gt=0)
    # Secret of the QR payload's HMAC.
    qr_secret: SecretStr = SecretStr("dev-qr-secret")
    payment_ttl_seconds: int = Field(default=900, gt=0)
    # /sandbox/faults (fault injection). On for local runs; switch off anywhere real.
    sandbox_admin: bool = True

    def dsn(self) -> str:
        return self.database_url.get_secret_value()
