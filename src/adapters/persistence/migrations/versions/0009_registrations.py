"""Registrations, their answers and the seat counters of events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

_ACTIVE = sa.text("status <> 'cancelled'")


def upgrade() -> None:
    op.create_table(
        "event_seats",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("taken", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "arrivals", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.PrimaryKeyConstraint("event_id", name="pk_event_seats"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_event_seats_event_id_events",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "registrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("list_price", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("promo_code_id", sa.Uuid(), nullable=True),
        sa.Column("arrival", sa.BigInteger(), nullable=False),
        sa.Column("waitlist_seq", sa.BigInteger(), nullable=True),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_ref", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_registrations"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name="fk_registrations_event_id_events",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_registrations_user_id_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        "ix_registrations_active_event_id_email_key",
        "registrations",
        ["event_id", "email_key"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )
    for columns in (
        ["event_id", "arrival"],
        ["event_id", "status", "waitlist_seq"],
        ["user_id"],
        ["email_key"],
        ["promo_code_id"],
        ["status", "hold_expires_at"],
        ["status", "offer_expires_at"],
    ):
        op.create_index(
            f"ix_registrations_{'_'.join(columns)}", "registrations", columns
        )

    op.create_table(
        "registration_answers",
        sa.Column("registration_id", sa.Uuid(), nullable=False),
        sa.Column("field_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "registration_id", "field_id", name="pk_registration_answers"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name="fk_registration_answers_registration_id_registrations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["event_custom_fields.id"],
            name="fk_registration_answers_field_id_event_custom_fields",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_registration_answers_field_id", "registration_answers", ["field_id"]
    )


def downgrade() -> None:
    op.drop_table("registration_answers")
    op.drop_table("registrations")
    op.drop_table("event_seats")
