"""Partner accounts and keys: create, verify, scopes, rotation with overlap, revocation, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from access import partners

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def clean(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE partners, partner_keys, partner_buckets, partner_usage CASCADE"))
    return engine


def test_key_verifies_with_its_scopes_and_only_a_hash_is_stored(clean: Engine) -> None:
    account = partners.create_partner(clean, "高德", coord="gcj02", language="zh")
    issued = partners.create_key(clean, account.partner_id, ["stations:read", "prices:read"])
    holder = partners.verify(clean, issued.token, NOW)
    assert holder is not None
    assert holder.account == account and holder.key_id == issued.key_id
    assert holder.scopes == {"stations:read", "prices:read"}
    secret = issued.token.split(".", 1)[1]
    with clean.connect() as conn:
        stored = conn.execute(text("SELECT secret_hash FROM partner_keys")).scalar_one()
    assert secret not in stored and stored.startswith("scrypt$")
    assert partners.verify(clean, issued.token[:-1] + ("x" if issued.token[-1] != "x" else "y"), NOW) is None
    assert partners.verify(clean, "nosuchkey.secret", NOW) is None
    assert partners.verify(clean, "no-dot", NOW) is None


def test_bad_accounts_and_scopes_are_refused(clean: Engine) -> None:
    with pytest.raises(partners.PartnerError, match="coord"):
        partners.create_partner(clean, "x", coord="mercator")
    with pytest.raises(partners.PartnerError, match="language"):
        partners.create_partner(clean, "x", language="fr")
    account = partners.create_partner(clean, "百度", coord="bd09")
    with pytest.raises(partners.PartnerError, match="exists"):
        partners.create_partner(clean, "百度")
    with pytest.raises(partners.PartnerError, match="unknown scope"):
        partners.create_key(clean, account.partner_id, ["stations:write"])
    with pytest.raises(partners.PartnerError, match="at least one"):
        partners.create_key(clean, account.partner_id, [])
    with pytest.raises(partners.PartnerNotFound):
        partners.create_key(clean, account.partner_id + 1, ["stations:read"])


def test_rotation_keeps_the_old_key_until_the_overlap_ends(clean: Engine) -> None:
    account = partners.create_partner(clean, "腾讯", coord="gcj02", language="en")
    old = partners.create_key(clean, account.partner_id, ["feed:read", "stations:read"])
    new = partners.rotate_key(clean, old.key_id, NOW, timedelta(hours=2))
    assert new.scopes == old.scopes and new.token != old.token
    assert partners.verify(clean, old.token, NOW + timedelta(hours=1)) is not None
    assert partners.verify(clean, old.token, NOW + timedelta(hours=2)) is None
    assert partners.verify(clean, new.token, NOW + timedelta(days=30)) is not None
    listed = {a.partner_id: keys for a, keys in partners.list_partners(clean)}[account.partner_id]
    assert [k.replaces for k in listed if k.key_id == new.key_id] == [old.key_id]
    with pytest.raises(partners.KeyNotFound):  # expired: nothing to rotate
        partners.rotate_key(clean, old.key_id, NOW + timedelta(hours=3), timedelta(hours=1))


def test_revocation_ends_a_key_at_once(clean: Engine) -> None:
    account = partners.create_partner(clean, "比价")
    one = partners.create_key(clean, account.partner_id, ["prices:read"])
    two = partners.create_key(clean, account.partner_id, ["prices:read"])
    assert partners.revoke_key(clean, one.key_id, NOW) is True
    assert partners.revoke_key(clean, one.key_id, NOW) is False
    assert partners.verify(clean, one.token, NOW) is None
    assert partners.verify(clean, two.token, NOW) is not None


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "access.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_creates_rotates_revokes_and_lists(clean: Engine, database_url: str) -> None:
    created = _cli(
        database_url, "partner", "create", "地图", "--coord", "gcj02", "--rate", "5", "--burst", "7"
    )
    assert created.returncode == 0, created.stderr
    partner_id = int(created.stdout.strip())
    key = _cli(database_url, "partner", "key-create", str(partner_id), "--scopes", "stations:read,feed:read")
    assert key.returncode == 0, key.stderr
    token = key.stdout.strip()
    holder = partners.verify(clean, token, datetime.now(UTC))
    assert holder is not None and holder.scopes == {"stations:read", "feed:read"}
    assert holder.account.coord == "gcj02" and holder.account.burst == 7
    rotated = _cli(database_url, "partner", "key-rotate", holder.key_id, "--overlap-hours", "1")
    assert rotated.returncode == 0, rotated.stderr
    assert partners.verify(clean, rotated.stdout.strip(), datetime.now(UTC)) is not None
    revoked = _cli(database_url, "partner", "key-revoke", holder.key_id)
    assert revoked.returncode == 0 and partners.verify(clean, token, datetime.now(UTC)) is None
    assert _cli(database_url, "partner", "key-revoke", holder.key_id).returncode == 1
    listing = _cli(database_url, "partner", "list")
    assert listing.returncode == 0 and "地图" in listing.stdout and "revoked" in listing.stdout
    assert token.split(".", 1)[1] not in listing.stdout + listing.stderr
    bad = _cli(database_url, "partner", "key-create", str(partner_id), "--scopes", "everything")
    assert bad.returncode == 2 and "unknown scope" in bad.stderr
