"""Plan limits and sort orders within the bounds plans are now checked against.

Earlier versions stored any whole number as a limit, so a plan could hold a
limit no counter can be compared with; such limits become the largest one
allowed (1000000000), and sort orders are clamped the same way.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

# Literal, as plans were bounded when this revision was written.
_MAX_LIMIT = 1_000_000_000
_MAX_SORT_ORDER = 1_000_000_000

_plans = sa.table(
    "plans",
    sa.column("code", sa.String(40)),
    sa.column("limits", sa.JSON()),
    sa.column("sort_order", sa.BigInteger()),
)


def _bounded(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and value > _MAX_LIMIT:
        return _MAX_LIMIT
    return value


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_plans.c.code, _plans.c.limits, _plans.c.sort_order)
    ).all()
    for code, limits, sort_order in rows:
        bounded_limits = (
            {name: _bounded(value) for name, value in limits.items()}
            if isinstance(limits, dict)
            else limits
        )
        bounded_order = max(-_MAX_SORT_ORDER, min(_MAX_SORT_ORDER, sort_order))
        if (bounded_limits, bounded_order) != (limits, sort_order):
            connection.execute(
                sa.update(_plans)
                .where(_plans.c.code == code)
                .values(limits=bounded_limits, sort_order=bounded_order)
            )


def downgrade() -> None:
    """Nothing to undo: the bounded values are valid in the older schema too."""
