"""Subscriptions, billing customers, applied gateway events and notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-17
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_CURRENT = sa.text("ended_at IS NULL")


def _instant(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _owned_by_user(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["users.id"],
        name=f"fk_{table}_{column}_users",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("interval", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        _instant("current_period_start", nullable=False),
        _instant("current_period_end", nullable=False),
        _instant("billing_anchor", nullable=False),
        _instant("created_at", nullable=False),
        _instant("trial_end", nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        _instant("canceled_at", nullable=True),
        _instant("ended_at", nullable=True),
        sa.Column("customer_ref", sa.Text(), nullable=True),
        sa.Column("external_ref", sa.Text(), nullable=True),
        sa.Column("item_ref", sa.Text(), nullable=True),
        _instant("synced_at", nullable=True),
        _instant("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        _owned_by_user("subscriptions", "account_id"),
    )
    op.create_index("ix_subscriptions_account_id", "subscriptions", ["account_id"])
    op.create_index(
        "ix_subscriptions_current_account_id",
        "subscriptions",
        ["account_id"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.create_index(
        "ix_subscriptions_external_ref",
        "subscriptions",
        ["external_ref"],
        unique=True,
    )
    op.create_index(
        "ix_subscriptions_current_period_end",
        "subscriptions",
        ["current_period_end"],
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.create_index(
        "ix_subscriptions_trial_end",
        "subscriptions",
        ["trial_end"],
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )

    op.create_table(
        "billing_customers",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("customer_ref", sa.Text(), nullable=False),
        _instant("created_at", nullable=False),
        sa.Column("default_payment_method", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_billing_customers"),
        sa.UniqueConstraint("customer_ref", name="uq_billing_customers_customer_ref"),
        _owned_by_user("billing_customers", "account_id"),
    )

    op.create_table(
        "gateway_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        _instant("received_at", nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_gateway_events"),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _instant("created_at", nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        _instant("read_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("dedupe_key", name="uq_notifications_dedupe_key"),
        _owned_by_user("notifications", "user_id"),
    )
    op.create_index(
        "ix_notifications_user_id_created_at",
        "notifications",
        ["user_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("gateway_events")
    op.drop_table("billing_customers")
    op.drop_table("subscriptions")
