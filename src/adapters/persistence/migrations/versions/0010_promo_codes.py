"""Promo codes, the events they apply to, and the organizer's time zone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def _instant(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("organizer_profiles") as batch:
        batch.add_column(
            sa.Column(
                "timezone",
                sa.String(64),
                nullable=False,
                server_default=sa.text("'UTC'"),
            )
        )

    op.create_table(
        "promo_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("code_key", sa.String(40), nullable=False),
        sa.Column("discount_type", sa.String(16), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("all_events", sa.Boolean(), nullable=False),
        _instant("valid_from", nullable=True),
        _instant("valid_until", nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_email", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "times_used", sa.Integer(), nullable=False, server_default=sa.text("0")
        ),
        _instant("created_at", nullable=False),
        _instant("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_promo_codes"),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["users.id"],
            name="fk_promo_codes_organizer_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_promo_codes_organizer_id_code_key",
        "promo_codes",
        ["organizer_id", "code_key"],
        unique=True,
    )
    op.create_index(
        "ix_promo_codes_organizer_id_created_at",
        "promo_codes",
        ["organizer_id", "created_at"],
    )

    op.create_table(
        "promo_code_events",
        sa.Column("promo_code_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "promo_code_id", "event_id", name="pk_promo_code_events"
        ),
        sa.ForeignKeyConstraint(
            ["promo_code_id"],
            ["promo_codes.id"],
            name="fk_promo_code_events_promo_code_id_promo_codes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_promo_code_events_event_id_events",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_promo_code_events_event_id", "promo_code_events", ["event_id"])


def downgrade() -> None:
    op.drop_table("promo_code_events")
    op.drop_table("promo_codes")
    with op.batch_alter_table("organizer_profiles") as batch:
        batch.drop_column("timezone")
