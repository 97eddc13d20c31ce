"""Partner accounts and API keys (issue 15, part 1), their token buckets and daily usage (part 2), and staff
roles on station credentials.

- partners: a map app or price-comparison partner: default coordinate system and language, the rate limit
  of each of its keys (token bucket: `rate_per_second`, `burst`) and its daily quota (China day).
- partner_keys: '<key_id>.<secret>' as station credentials (secret kept as a salted scrypt hash), scopes,
  an optional expiry (rotation keeps the old key valid until then) and a revocation time.
- partner_buckets (UNLOGGED: state, not records; after a crash every bucket starts full again) and
  partner_usage (requests served and refused per partner and China day; what the quota counts).
- partner_take(key, partner, now, day): one call per request, one round trip: is the key live (not revoked,
  not expired at `now`), then a token from its bucket, then one request of the partner's daily quota.
- station_credentials.role: station_admin | cashier | attendant; every existing credential could post
  prices and occupancy events, which is the station admin's, so existing rows become station_admin.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPES = "'stations:read', 'prices:read', 'waits:read', 'feed:read', 'webhooks:manage'"

# outcome: 'ok' | 'revoked' (unknown, revoked or expired key) | 'rate' (bucket empty) | 'quota' (day used up)
# level: the bucket's tokens after this request; used: requests served today (this one included when ok).
TAKE = """
CREATE FUNCTION partner_take(p_key text, p_partner bigint, p_now timestamptz, p_day date)
RETURNS TABLE (outcome text, level double precision, burst integer, rate double precision,
               used bigint, quota bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    lim record;
    tokens double precision;
    served bigint;
BEGIN
    -- usage counters may lose the last few milliseconds on a crash; a request need not wait for an fsync
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT p.rate_per_second, p.burst, p.daily_quota INTO lim
      FROM partner_keys k JOIN partners p ON p.id = k.partner_id
     WHERE k.key_id = p_key AND k.partner_id = p_partner AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > p_now);
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'revoked'::text, 0::double precision, 0, 0::double precision, 0::bigint,
                            NULL::bigint;
        RETURN;
    END IF;
    INSERT INTO partner_buckets AS b (key_id, tokens, at) VALUES (p_key, lim.burst, p_now)
    ON CONFLICT (key_id) DO UPDATE
       SET tokens = LEAST(lim.burst::double precision,
                          b.tokens + GREATEST(0, extract(epoch FROM p_now - b.at)) * lim.rate_per_second),
           at = GREATEST(b.at, p_now)
    RETURNING b.tokens INTO tokens;
    IF tokens < 1 THEN
        INSERT INTO partner_usage AS u (partner_id, day, served, refused) VALUES (p_partner, p_day, 0, 1)
        ON CONFLICT (partner_id, day) DO UPDATE SET refused = u.refused + 1
        RETURNING u.served INTO served;
        RETURN QUERY SELECT 'rate'::text, tokens, lim.burst, lim.rate_per_second, served,
                            lim.daily_quota;
        RETURN;
    END IF;
    INSERT INTO partner_usage AS u (partner_id, day, served, refused) VALUES (p_partner, p_day, 1, 0)
    ON CONFLICT (partner_id, day) DO UPDATE SET served = u.served + 1
     WHERE lim.daily_quota IS NULL OR u.served < lim.daily_quota
    RETURNING u.served INTO served;
    IF NOT FOUND THEN
        UPDATE partner_usage u SET refused = u.refused + 1 WHERE u.partner_id = p_partner AND u.day = p_day
        RETURNING u.served INTO served;
        RETURN QUERY SELECT 'quota'::text, tokens, lim.burst, lim.rate_per_second, served,
                            lim.daily_quota;
        RETURN;
    END IF;
    UPDATE partner_buckets b SET tokens = b.tokens - 1 WHERE b.key_id = p_key;
    RETURN QUERY SELECT 'ok'::text, tokens - 1, lim.burst, lim.rate_per_second, served, lim.daily_quota;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("coord", sa.Text(), nullable=False, server_default="wgs84"),
        sa.Column("language", sa.Text(), nullable=False, server_default="zh"),
        sa.Column("rate_per_second", sa.Float(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("daily_quota", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("coord IN ('wgs84', 'gcj02', 'bd09')", name=op.f("ck_partners_coord")),
        sa.CheckConstraint("language IN ('zh', 'en')", name=op.f("ck_partners_language")),
        sa.CheckConstraint("rate_per_second > 0", name=op.f("ck_partners_rate")),
        sa.CheckConstraint("burst >= 1", name=op.f("ck_partners_burst")),
        sa.CheckConstraint("daily_quota IS NULL OR daily_quota >= 0", name=op.f("ck_partners_daily_quota")),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_partners_name")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
    )
    op.create_table(
        "partner_keys",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaces", sa.Text(), nullable=True),
        sa.CheckConstraint(f"scopes <@ ARRAY[{SCOPES}]::text[]", name=op.f("ck_partner_keys_scopes")),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_keys_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_partner_keys")),
    )
    op.create_index("ix_partner_keys_partner_id", "partner_keys", ["partner_id"])
    op.create_table(
        "partner_buckets",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_partner_buckets")),
        prefixes=["UNLOGGED"],
    )
    op.create_table(
        "partner_usage",
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("served", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("refused", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_usage_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "day", name=op.f("pk_partner_usage")),
    )
    op.execute(TAKE)
    op.add_column(
        "station_credentials",
        sa.Column("role", sa.Text(), nullable=False, server_default="station_admin"),
    )
    op.create_check_constraint(
        op.f("ck_station_credentials_role"),
        "station_credentials",
        "role IN ('station_admin', 'cashier', 'attendant')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_station_credentials_role"), "station_credentials", type_="check")
    op.drop_column("station_credentials", "role")
    op.execute("DROP FUNCTION partner_take(text, bigint, timestamptz, date)")
    op.drop_table("partner_usage")
    op.drop_table("partner_buckets")
    op.drop_index("ix_partner_keys_partner_id", table_name="partner_keys")
    op.drop_table("partner_keys")
    op.drop_table("partners")
