"""Organizer profiles.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "organizer_profiles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_name", sa.Text(), nullable=False),
        sa.Column("slug", sa.String(60), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("contact_email", sa.String(320), nullable=True),
        sa.Column("logo", sa.Text(), nullable=True),
        sa.Column("social_links", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_organizer_profiles"),
        sa.UniqueConstraint("slug", name="uq_organizer_profiles_slug"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_organizer_profiles_user_id_users",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("organizer_profiles")
