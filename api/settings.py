"""Settings, read from the environment only here (never at import time of other modules).

DATABASE_URL names the PostGIS database; every other variable has the STATIONS_ prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from access.driver_tokens import DriverTokenKeys
from pricing.quotes import SigningKeys
from timekeeping.china_days import parse_notice

# The development values of every secret: usable only with STATIONS_MODE=development (bin/run, bin/test).
DEV_OPERATOR_TOKEN = "dev-operator-token"
DEV_QUOTE_KEY = "dev-only-quote-key-0123456789abcdef0123456789"
DEV_ORDERCORE_TOKEN = "dev-ordercore-token"
DEV_CALLBACK_SECRET = "dev-callback-secret"
DEV_DRIVER_TOKEN_KEY = "dev-only-driver-token-key-0123456789abcdef"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIN_SECRET_LENGTH = 16
MIN_HS256_KEY = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash


class UnsafeSettings(ValueError):
    """Development secrets (or none) outside development mode: the service refuses to start."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STATIONS_", extra="ignore")

    # "development" lets the development secrets below serve (bin/run and bin/test set it); anywhere else
    # every secret must be set to a value of its own (`check_safe`, called by create_app).
    mode: Literal["production", "development"] = "production"
    database_url: SecretStr = Field(
        default=SecretStr("postgresql://stations@127.0.0.1:55432/stations"),
        validation_alias="DATABASE_URL",
    )
    # A PostgreSQL streaming replica of DATABASE_URL (optional, env STATIONS_REPLICA_URL): workers' start-up
    # loads and change-log reads go to it while its replay lag is within replica_max_lag_seconds, else to
    # the primary; after a replica failure it is tried again replica_retry_seconds later (db/read_routing.py).
    replica_url: SecretStr | None = None
    replica_max_lag_seconds: float = Field(default=5.0, gt=0)
    replica_retry_seconds: float = Field(default=5.0, gt=0)
    replica_check_seconds: float = Field(default=0.25, gt=0)
    # How often each worker checks the catalogue version and reloads its in-memory index.
    # Workers follow the change log (api/live_changes.py), woken by LISTEN; this tick is the fallback read.
    index_refresh_seconds: float = 1.0
    # /readyz turns unready when the worker is this far behind the change log.
    change_log_max_behind_seconds: float = Field(default=30.0, gt=0)
    # Load the in-memory search index at start-up (tests of other routes may switch it off).
    load_index: bool = True
    # FastAPI's native OpenTelemetry (STATIONS_TELEMETRY=true, with a provider configured): off, it costs
    # nothing; on, FastAPI checks its providers on every request (measured ~25 µs) even when none is set.
    telemetry: bool = False
    db_pool_size: int = 5
    default_timezone: str = "Asia/Shanghai"
    # Quote signing: key id -> secret (JSON in STATIONS_QUOTE_SIGNING_KEYS); new quotes use quote_key_id.
    # The default key serves in development mode only: production sets its own.
    quote_signing_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev-1": SecretStr(DEV_QUOTE_KEY)}
    )
    quote_key_id: str = "dev-1"
    quote_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    # Bearer token of the operator API (/v1/operator/...), env STATIONS_OPERATOR_TOKEN; the default serves
    # in development mode only: set a long random value in every deployment.
    operator_token: SecretStr = SecretStr(DEV_OPERATOR_TOKEN)
    # The driver identity (issue 11): the mini-program gateway signs `Authorization: Bearer <JWT>` (HS256,
    # `sub` = driver id, `exp` required) after WeChat login with this key, env STATIONS_DRIVER_TOKEN_KEY;
    # the default serves in development mode only. A token lives at most driver_token_max_ttl_seconds.
    driver_token_key: SecretStr = SecretStr(DEV_DRIVER_TOKEN_KEY)
    driver_token_max_ttl_seconds: int = Field(default=86_400, gt=0, le=30 * 86_400)

    # Occupancy (issue 4): a station silent this long is "unknown", not free; each worker tails new events
    # every occupancy_poll_seconds and keeps occupancy_history_days in its book; one ingest request holds
    # at most occupancy_max_batch items and occupancy_max_body_bytes bytes (413 above).
    occupancy_stale_after_seconds: float = Field(default=300.0, gt=0)
    # 0.1 s rather than 0.2: the post-to-visible p99 on a busy 2-core machine was 0.9-1.1 s at 0.2 s
    # (loadtests/bench_occupancy.py); a poll costs a few indexed queries.
    occupancy_poll_seconds: float = Field(default=0.1, gt=0)
    occupancy_history_days: int = Field(default=14, ge=0, le=366)
    occupancy_max_batch: int = Field(default=10_000, ge=1)
    # List views (nearby/compare wait=true, sort=wait) show each station's wait as of the last multiple
    # of this many seconds, computed at most once per station, grade and step in each worker: an estimate
    # that has to infer a queue costs ~5 ms (up to ~15 ms). GET /v1/stations/{id}/wait is always exact.
    occupancy_list_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    occupancy_max_body_bytes: int = Field(default=4_000_000, ge=1024)
    # Holiday days of a State Council notice the packages do not carry yet (timekeeping/china_days.py):
    # `2027-02-20=work,2027-02-11=rest`; a supplied day wins over the packages' answer.
    china_notice: str = ""
    # Every other request body is at most this many bytes (413 above; httpguard/limits.py).
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # Successful station credential checks are remembered this long (a revocation takes effect within it).
    station_auth_cache_seconds: float = Field(default=30.0, ge=0)
    # Successful partner key checks (scrypt) are remembered this long; revocation does not wait for it:
    # every partner request's quota statement checks that the key is still live.
    partner_auth_cache_seconds: float = Field(default=300.0, ge=0)
    # Every partner answer carries these (issue 15, part 7): the terms the data is licensed under and the
    # attribution a partner shows next to it.
    partner_licence: str = Field(
        default="Licensed to the partner under its data agreement; not for redistribution",
        min_length=1,
        max_length=500,
    )
    partner_attribution: str = Field(default="加油站数据：fuel-stations", min_length=1, max_length=200)

    # Checkout (issue 5): the order core's URL and service token, the secret its callbacks are signed
    # with (same value as its ORDERCORE_CALLBACK_SECRET); per-attempt connect/read timeouts, attempts per
    # call (same Idempotency-Key), circuit breaker (consecutive failed attempts, cool-down); coupon hold
    # (longer than the order core's 900 s payment TTL); the sweep period (0 = no sweeper).
    ordercore_url: str = "http://127.0.0.1:8001"
    ordercore_token: SecretStr = SecretStr(DEV_ORDERCORE_TOKEN)
    ordercore_callback_secret: SecretStr = SecretStr(DEV_CALLBACK_SECRET)
    ordercore_connect_timeout: float = Field(default=0.5, gt=0)
    ordercore_read_timeout: float = Field(default=3.0, gt=0)
    ordercore_attempts: int = Field(default=3, ge=1, le=10)
    ordercore_backoff_seconds: float = Field(default=0.1, ge=0)
    ordercore_breaker_threshold: int = Field(default=5, ge=1)
    ordercore_breaker_cooldown_seconds: float = Field(default=10.0, gt=0)
    coupon_hold_seconds: int = Field(default=1200, gt=0)
    checkout_sweep_seconds: float = Field(default=5.0, ge=0)

    # Upkeep (issue 12, upkeep/): every upkeep_every_seconds (0 = never) one worker of all (an advisory
    # lock) creates the China-day partitions of occupancy events and reports occupancy_partitions_ahead_days
    # ahead, drops those older than occupancy_retention_days (keep it above occupancy_history_days: the
    # estimator learns from 14 days) and prunes delivered order-core outbox events, applied order-core
    # callbacks of final checkouts, old position claims and the change log, each past its retention.
    upkeep_every_seconds: float = Field(default=600.0, ge=0)
    occupancy_retention_days: int = Field(default=15, ge=1, le=3660)
    occupancy_partitions_ahead_days: int = Field(default=3, ge=0, le=60)
    ordercore_outbox_retention_days: float = Field(default=7.0, ge=0)
    ordercore_events_retention_days: float = Field(default=30.0, ge=1)
    change_log_retention_days: float = Field(default=7.0, ge=0)
    # Navigation links (nav=true): the app name the map apps' URI APIs ask for (Amap and Baidu `src`,
    # Tencent `referer`, the key's registered name). Not a secret: it is in every link.
    map_app_key: str = Field(default="fuel-stations", min_length=1, max_length=64)
    # The station map page (/map): the npm project bin/web.sh installs (web/page and maplibre-gl's dist
    # files under web/node_modules) and the province outlines `python -m geo.basemap` builds.
    map_web_dir: Path = PROJECT_ROOT / "web"
    map_basemap_path: Path = PROJECT_ROOT / "var" / "basemap" / "provinces.geojson"
    # Partner snapshots are rendered by a process of their own into this directory (partners/snapshot_files);
    # a file younger than the max age is sent again (0: every request renders afresh).
    partner_snapshot_dir: Path = PROJECT_ROOT / "var" / "snapshots"
    partner_snapshot_max_age_seconds: float = Field(default=0.0, ge=0, le=86_400)

    @field_validator("china_notice")
    @classmethod
    def _notice_reads(cls, value: str) -> str:
        parse_notice(value)  # a bad entry stops the start, naming it
        return value

    def unsafe(self) -> list[str]:
        """What keeps these settings from serving outside development mode (empty when nothing does)."""
        if self.mode == "development":
            return []
        secrets = {
            "STATIONS_OPERATOR_TOKEN": (self.operator_token, DEV_OPERATOR_TOKEN),
            "STATIONS_ORDERCORE_TOKEN": (self.ordercore_token, DEV_ORDERCORE_TOKEN),
            "STATIONS_ORDERCORE_CALLBACK_SECRET": (self.ordercore_callback_secret, DEV_CALLBACK_SECRET),
            "STATIONS_DRIVER_TOKEN_KEY": (self.driver_token_key, DEV_DRIVER_TOKEN_KEY),
        }
        secrets |= {
            f"STATIONS_QUOTE_SIGNING_KEYS[{kid}]": (key, DEV_QUOTE_KEY)
            for kid, key in self.quote_signing_keys.items()
        }
        problems = _weak_secrets(secrets)
        driver_key = self.driver_token_key.get_secret_value()
        if driver_key != DEV_DRIVER_TOKEN_KEY and MIN_SECRET_LENGTH <= len(driver_key) < MIN_HS256_KEY:
            problems.append(f"STATIONS_DRIVER_TOKEN_KEY is shorter than {MIN_HS256_KEY} characters (HS256)")
        return problems

    def check_safe(self) -> None:
        problems = self.unsafe()
        if problems:
            raise UnsafeSettings(
                "refusing to start outside development mode: "
                + "; ".join(problems)
                + " (set each to a long random value of its own,"
                + " or STATIONS_MODE=development for a local run)"
            )

    def driver_keys(self) -> DriverTokenKeys:
        return DriverTokenKeys(
            self.driver_token_key.get_secret_value().encode(), self.driver_token_max_ttl_seconds
        )

    def dsn(self) -> str:
        return self.database_url.get_secret_value()

    def quote_keys(self) -> SigningKeys:
        keys = {kid: secret.get_secret_value().encode() for kid, secret in self.quote_signing_keys.items()}
        return SigningKeys(current=self.quote_key_id, keys=keys)


def _weak_secrets(secrets: dict[str, tuple[SecretStr, str]]) -> list[str]:
    problems = []
    for name, (secret, dev_value) in secrets.items():
        value = secret.get_secret_value()
        if value == dev_value:
            problems.append(f"{name} is the development value")
        elif len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
    return problems
