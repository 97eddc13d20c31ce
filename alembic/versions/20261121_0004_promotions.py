"""Promotions the operator manages: drivers, member levels, coupon templates and the instances drivers
hold, payment-channel promotions, and the stacking policy / points rule (one row).

Discount parameters live in columns (one check per kind); scope in text arrays (empty = any).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.schema import SchemaItem

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the checks in db/models.py (a migration never follows later model edits).
DISCOUNT_CHECK = (
    "(kind = 'amount_off' AND amount > 0 AND threshold >= 0 AND percent IS NULL AND cap IS NULL AND "
    "per_litre IS NULL AND litre_cap IS NULL) OR (kind = 'percent_off' AND percent > 0 AND percent < "
    "100 AND (cap IS NULL OR cap > 0) AND amount IS NULL AND threshold IS NULL AND per_litre IS NULL "
    "AND litre_cap IS NULL) OR (kind = 'per_litre_off' AND per_litre > 0 AND (litre_cap IS NULL OR "
    "litre_cap > 0) AND amount IS NULL AND threshold IS NULL AND percent IS NULL AND cap IS NULL)"
)
WINDOW_CHECK = "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from"


def _now() -> sa.TextClause:
    return sa.text("now()")


def _rule(table: str) -> list[SchemaItem]:
    def ck(sql: str, name: str) -> sa.CheckConstraint:
        return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))

    def arr(name: str) -> sa.Column:  # type: ignore[type-arg]
        return sa.Column(name, postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False)

    return [
        sa.Column("name", sa.Text(), server_default="", nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), server_default="CNY", nullable=False),
        sa.Column("threshold", sa.Numeric(12, 2), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("percent", sa.Numeric(5, 2), nullable=True),
        sa.Column("cap", sa.Numeric(12, 2), nullable=True),
        sa.Column("per_litre", sa.Numeric(10, 3), nullable=True),
        sa.Column("litre_cap", sa.Numeric(10, 2), nullable=True),
        arr("grades"),
        arr("stations"),
        arr("brands"),
        arr("cities"),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("min_spend", sa.Numeric(12, 2), nullable=True),
        sa.Column("first_order_only", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("per_user_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        ck(DISCOUNT_CHECK, "discount"),
        ck(WINDOW_CHECK, "window"),
        ck("min_spend IS NULL OR min_spend > 0", "min_spend_positive"),
        ck("per_user_limit IS NULL OR per_user_limit >= 0", "per_user_limit"),
        ck("currency IN ('CNY', 'EUR')", "currency"),
    ]


def upgrade() -> None:
    op.create_table(
        "drivers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("member_level", sa.Text(), nullable=True),
        sa.Column("completed_orders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("points_balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint("completed_orders >= 0", name=op.f("ck_drivers_completed_orders")),
        sa.CheckConstraint("points_balance >= 0", name=op.f("ck_drivers_points_balance")),
        sa.CheckConstraint(
            "member_level IS NULL OR member_level ~ '^[a-z0-9_-]+$'", name=op.f("ck_drivers_member_level")
        ),
        sa.CheckConstraint("length(btrim(id)) > 0", name=op.f("ck_drivers_id_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drivers")),
    )
    op.create_table(
        "member_levels",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=True),
        sa.Column("per_litre_discount", sa.Numeric(10, 3), nullable=False),
        sa.CheckConstraint("per_litre_discount >= 0", name=op.f("ck_member_levels_discount")),
        sa.CheckConstraint("level ~ '^[a-z0-9_-]+$'", name=op.f("ck_member_levels_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_levels")),
    )
    op.create_index(
        "uq_member_levels_level_grade",
        "member_levels",
        ["level", "grade"],
        unique=True,
        postgresql_where=sa.text("grade IS NOT NULL"),
    )
    op.create_index(
        "uq_member_levels_level_all_grades",
        "member_levels",
        ["level"],
        unique=True,
        postgresql_where=sa.text("grade IS NULL"),
    )
    op.create_table(
        "coupon_templates",
        sa.Column("id", sa.Text(), nullable=False),
        *_rule("coupon_templates"),
        sa.Column("exclusive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("stacks_with_payment", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_templates")),
    )
    op.create_table(
        "coupon_instances",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("driver_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="available", nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reservation_ref", sa.Text(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint(
            "state IN ('available', 'reserved', 'used', 'expired')", name=op.f("ck_coupon_instances_state")
        ),
        sa.CheckConstraint(
            "(state = 'available' AND reserved_until IS NULL AND reservation_ref IS NULL "
            "AND used_at IS NULL) OR "
            "(state = 'reserved' AND reserved_until IS NOT NULL AND reservation_ref IS NOT NULL "
            "AND used_at IS NULL) OR "
            "(state = 'used' AND reservation_ref IS NOT NULL AND used_at IS NOT NULL) OR state = 'expired'",
            name=op.f("ck_coupon_instances_state_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_coupon_instances_template_id_coupon_templates"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_coupon_instances_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_instances")),
    )
    op.create_index("ix_coupon_instances_driver_id", "coupon_instances", ["driver_id"])
    op.create_index(
        "ix_coupon_instances_reservation_ref",
        "coupon_instances",
        ["reservation_ref"],
        postgresql_where=sa.text("reservation_ref IS NOT NULL"),
    )
    op.create_table(
        "payment_promotions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        *_rule("payment_promotions"),
        sa.Column("stacks_with_coupons", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_promotions")),
    )
    op.create_table(
        "promotion_policy",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("max_coupons", sa.Integer(), nullable=False),
        sa.Column("max_payment_promotions", sa.Integer(), nullable=False),
        sa.Column("coupons_with_payment", sa.Boolean(), nullable=False),
        sa.Column("station_discount", sa.Boolean(), nullable=False),
        sa.Column("member_discount", sa.Boolean(), nullable=False),
        sa.Column("points_enabled", sa.Boolean(), nullable=False),
        sa.Column("points_per_yuan", sa.Integer(), nullable=False),
        sa.Column("points_max_share", sa.Numeric(4, 3), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_promotion_policy_singleton")),
        sa.CheckConstraint(
            "max_coupons >= 0 AND max_payment_promotions >= 0", name=op.f("ck_promotion_policy_maxima")
        ),
        sa.CheckConstraint(
            "points_per_yuan > 0 AND points_per_yuan % 100 = 0",
            name=op.f("ck_promotion_policy_points_per_yuan"),
        ),
        sa.CheckConstraint(
            "points_max_share >= 0 AND points_max_share <= 1",
            name=op.f("ck_promotion_policy_points_max_share"),
        ),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_promotion_policy")),
    )


def downgrade() -> None:
    op.drop_table("promotion_policy")
    op.drop_table("payment_promotions")
    op.drop_index("ix_coupon_instances_reservation_ref", table_name="coupon_instances")
    op.drop_index("ix_coupon_instances_driver_id", table_name="coupon_instances")
    op.drop_table("coupon_instances")
    op.drop_table("coupon_templates")
    op.drop_index("uq_member_levels_level_all_grades", table_name="member_levels")
    op.drop_index("uq_member_levels_level_grade", table_name="member_levels")
    op.drop_table("member_levels")
    op.drop_table("drivers")
