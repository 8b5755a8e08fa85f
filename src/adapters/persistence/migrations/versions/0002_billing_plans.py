"""The plan catalogue, seeded with the attendee and organizer plans.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Dialect

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ORGANIZER_CAPABILITIES = [
    "certificates",
    "contacts",
    "custom_fields",
    "organizer",
    "promo_codes",
]


def _prices(monthly: int, yearly: int) -> list[dict[str, Any]]:
    return [
        {"interval": "month", "amount": monthly, "currency": "USD"},
        {"interval": "year", "amount": yearly, "currency": "USD"},
    ]


# Literal data, as the plans stood when this revision was written; later
# changes to plans are made with `platform plans`, not by editing this list.
_SEED: list[dict[str, Any]] = [
    {
        "code": "attendee",
        "name": "Attendee",
        "prices": _prices(0, 0),
        "trial_days": 0,
        "capabilities": [],
        "limits": {},
        "is_public": True,
        "sort_order": 0,
    },
    {
        "code": "organizer",
        "name": "Organizer",
        "prices": _prices(2900, 29000),
        "trial_days": 14,
        "capabilities": _ORGANIZER_CAPABILITIES,
        "limits": {
            "certificates_per_period": 500,
            "courses": 0,
            "events_per_period": 5,
            "registrations_per_event": 200,
        },
        "is_public": True,
        "sort_order": 10,
    },
    {
        "code": "organizer_pro",
        "name": "Organizer Pro",
        "prices": _prices(7900, 79000),
        "trial_days": 14,
        "capabilities": sorted([*_ORGANIZER_CAPABILITIES, "lms", "zoom"]),
        "limits": {
            "certificates_per_period": None,
            "courses": 20,
            "events_per_period": 50,
            "registrations_per_event": 2000,
        },
        "is_public": True,
        "sort_order": 20,
    },
]


class _Json(sa.TypeDecorator[Any]):
    """JSON that can also be written out inline, for `alembic upgrade --sql`."""

    impl = sa.JSON
    cache_ok = True

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return "'" + json.dumps(value).replace("'", "''") + "'"


_seed_table = sa.table(
    "plans",
    sa.column("code", sa.String(40)),
    sa.column("name", sa.Text()),
    sa.column("prices", _Json()),
    sa.column("trial_days", sa.Integer()),
    sa.column("capabilities", _Json()),
    sa.column("limits", _Json()),
    sa.column("is_public", sa.Boolean()),
    sa.column("sort_order", sa.Integer()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("trial_days", sa.Integer(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_plans"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(_seed_table, [plan | {"updated_at": now} for plan in _SEED])


def downgrade() -> None:
    op.drop_table("plans")
