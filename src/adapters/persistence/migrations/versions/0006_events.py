"""Events and their sessions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _instant(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        _instant("starts_at", nullable=False),
        _instant("ends_at", nullable=False),
        _instant("created_at", nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("venue", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        _instant("registration_opens_at", nullable=True),
        _instant("registration_closes_at", nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("cpd_credits", sa.Numeric(7, 2), nullable=False),
        sa.Column("certificate_enabled", sa.Boolean(), nullable=False),
        sa.Column("min_attendance_percent", sa.Integer(), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("waitlist_enabled", sa.Boolean(), nullable=False),
        sa.Column("featured_image", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _instant("published_at", nullable=True),
        _instant("cancelled_at", nullable=True),
        _instant("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("slug", name="uq_events_slug"),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["users.id"],
            name="fk_events_organizer_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_events_organizer_id_starts_at", "events", ["organizer_id", "starts_at"]
    )
    op.create_index(
        "ix_events_status_visibility_ends_at",
        "events",
        ["status", "visibility", "ends_at"],
    )
    op.create_index(
        "ix_events_status_visibility_starts_at",
        "events",
        ["status", "visibility", "starts_at"],
    )

    op.create_table(
        "event_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        _instant("starts_at", nullable=False),
        _instant("ends_at", nullable=False),
        _instant("created_at", nullable=False),
        sa.Column("meeting_url", sa.Text(), nullable=True),
        sa.Column("meeting_id", sa.Text(), nullable=True),
        _instant("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_event_sessions"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_event_sessions_event_id_events",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_event_sessions_event_id_starts_at",
        "event_sessions",
        ["event_id", "starts_at"],
    )


def downgrade() -> None:
    op.drop_table("event_sessions")
    op.drop_table("events")
