"""Development secrets serve only in development mode: both services refuse them (and the order core its
sandbox fault routes) anywhere else, from the settings object and as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.app import create_app
from api.settings import Settings, UnsafeSettings
from ordercore.app import create_app as create_ordercore
from ordercore.settings import OrdercoreSettings
from ordercore.settings import UnsafeSettings as UnsafeOrdercoreSettings
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
STRONG = "s3cret-" + "x" * 40


def production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATIONS_", "ORDERCORE_"))}
    return env | {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


def test_api_settings_outside_development_mode_need_their_own_secrets() -> None:
    defaults = Settings.model_validate({"mode": "production"})
    assert defaults.unsafe() == [
        "STATIONS_OPERATOR_TOKEN is the development value",
        "STATIONS_ORDERCORE_TOKEN is the development value",
        "STATIONS_ORDERCORE_CALLBACK_SECRET is the development value",
        "STATIONS_DRIVER_TOKEN_KEY is the development value",
        "STATIONS_QUOTE_SIGNING_KEYS[dev-1] is the development value",
    ]
    with pytest.raises(UnsafeSettings, match="refusing to start outside development mode"):
        create_app(defaults)
    short = Settings.model_validate(
        {
            "mode": "production",
            "operator_token": "short",
            "ordercore_token": STRONG,
            "ordercore_callback_secret": STRONG,
            "driver_token_key": STRONG,
            "quote_signing_keys": {"k1": STRONG},
            "quote_key_id": "k1",
        }
    )
    assert short.unsafe() == ["STATIONS_OPERATOR_TOKEN is shorter than 16 characters"]
    own = Settings.model_validate(
        {
            "mode": "production",
            "operator_token": STRONG,
            "ordercore_token": STRONG,
            "ordercore_callback_secret": STRONG,
            "driver_token_key": STRONG,
            "quote_signing_keys": {"k1": STRONG},
            "quote_key_id": "k1",
        }
    )
    assert own.unsafe() == []
    create_app(own)  # builds (the lifespan, which needs the database, has not run)
    assert Settings.model_validate({"mode": "development"}).unsafe() == []


def test_ordercore_settings_outside_development_mode() -> None:
    defaults = OrdercoreSettings.model_validate({"mode": "production", "sandbox_admin": True})
    assert defaults.unsafe() == [
        "ORDERCORE_SANDBOX_ADMIN enables fault injection",
        "ORDERCORE_API_TOKEN is the development value",
        "ORDERCORE_CALLBACK_SECRET is the development value",
        "ORDERCORE_QR_SECRET is the development value",
    ]
    with pytest.raises(UnsafeOrdercoreSettings):
        create_ordercore(defaults)
    own = OrdercoreSettings.model_validate(
        {"mode": "production", "api_token": STRONG, "callback_secret": STRONG, "qr_secret": STRONG}
    )
    assert own.unsafe() == [] and own.sandbox_admin is False
    assert OrdercoreSettings.model_validate({"mode": "development", "sandbox_admin": True}).unsafe() == []


def test_the_api_process_refuses_to_start_with_development_secrets() -> None:
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(free_port())]
    done = subprocess.run(
        command, cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "STATIONS_OPERATOR_TOKEN is the development value" in done.stderr, done.stderr


def test_the_ordercore_process_refuses_to_start_with_development_secrets() -> None:
    command = [sys.executable, "-m", "ordercore", "serve", "--port", str(free_port())]
    env = production_env() | {"ORDERCORE_API_TOKEN": STRONG, "ORDERCORE_CALLBACK_SECRET": STRONG}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "ORDERCORE_QR_SECRET is the development value" in done.stderr, done.stderr
    assert "ORDERCORE_API_TOKEN" not in done.stderr
