"""Order-core settings: env prefix ORDERCORE_, except the database, which defaults to DATABASE_URL.

Only this module reads the environment, and only when OrdercoreSettings() is built.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development values, usable only with ORDERCORE_MODE=development (bin/run and bin/test set it).
DEV_API_TOKEN = "dev-ordercore-token"
DEV_CALLBACK_SECRET = "dev-callback-secret"
DEV_QR_SECRET = "dev-qr-secret"
MIN_SECRET_LENGTH = 16


class UnsafeSettings(ValueError):
    """Development secrets, or the sandbox fault routes, outside development mode: refuse to start."""


class OrdercoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERCORE_", extra="ignore", populate_by_name=True)

    # "development" lets the development secrets and the sandbox routes serve; anywhere else each secret
    # must be set to a value of its own and the sandbox stays off (`check_safe`, called by create_app).
    mode: Literal["production", "development"] = "production"
    # ORDERCORE_DATABASE_URL, else the station service's DATABASE_URL (same database, schema `ordercore`).
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://stations@127.0.0.1:55432/stations"),
        validation_alias=AliasChoices("ORDERCORE_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    host: str = "127.0.0.1"
    port: int = 8001
    db_pool_size: int = 5
    # Bearer token of every /v1 and /sandbox call. The defaults serve in development mode only.
    api_token: SecretStr = SecretStr(DEV_API_TOKEN)
    callback_url: str = "http://127.0.0.1:8000/v1/ordercore/events"
    callback_secret: SecretStr = SecretStr(DEV_CALLBACK_SECRET)
    callback_timeout_seconds: float = Field(default=5.0, gt=0)
    # Exponential backoff of failed deliveries: base * 2**(attempts-1), capped.
    callback_backoff_base_seconds: float = Field(default=0.5, gt=0)
    callback_backoff_cap_seconds: float = Field(default=60.0, gt=0)
    # How often the sender looks for due outbox events, and the expiry sweep runs.
    outbox_poll_seconds: float = Field(default=0.2, gt=0)
    expiry_sweep_seconds: float = Field(default=2.0, gt=0)
    # Secret of the QR payload's HMAC.
    qr_secret: SecretStr = SecretStr(DEV_QR_SECRET)
    payment_ttl_seconds: int = Field(default=900, gt=0)
    # /sandbox/faults (fault injection): allowed in development mode only (bin/run turns it on there).
    sandbox_admin: bool = False

    def unsafe(self) -> list[str]:
        """What keeps these settings from serving outside development mode (empty when nothing does)."""
        if self.mode == "development":
            return []
        problems = ["ORDERCORE_SANDBOX_ADMIN enables fault injection"] if self.sandbox_admin else []
        for name, secret, dev_value in (
            ("ORDERCORE_API_TOKEN", self.api_token, DEV_API_TOKEN),
            ("ORDERCORE_CALLBACK_SECRET", self.callback_secret, DEV_CALLBACK_SECRET),
            ("ORDERCORE_QR_SECRET", self.qr_secret, DEV_QR_SECRET),
        ):
            value = secret.get_secret_value()
            if value == dev_value:
                problems.append(f"{name} is the development value")
            elif len(value) < MIN_SECRET_LENGTH:
                problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        return problems

    def check_safe(self) -> None:
        problems = self.unsafe()
        if problems:
            raise UnsafeSettings(
                "refusing to start outside development mode: "
                + "; ".join(problems)
                + (
                    " (set each secret to a long random value of its own, "
                    "or ORDERCORE_MODE=development locally)"
                )
            )

    def dsn(self) -> str:
        return self.database_url.get_secret_value()
