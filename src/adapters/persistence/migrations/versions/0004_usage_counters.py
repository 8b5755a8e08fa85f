"""Counters of limited things used per account and billing period.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "usage_counters",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint(
            "account_id", "name", "period_start", name="pk_usage_counters"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["users.id"],
            name="fk_usage_counters_account_id_users",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("usage_counters")
