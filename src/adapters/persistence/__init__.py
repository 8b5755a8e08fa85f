"""SQLAlchemy persistence: tables, repositories, unit of work and migrations."""

from __future__ import annotations

from adapters.persistence.engine import create_engine, ping
from adapters.persistence.migrate import (
    SchemaOutOfDate,
    alembic_config,
    current_revision,
    ensure_schema_current,
    head_revision,
    upgrade_database,
)
from adapters.persistence.repositories import (
    SqlAuditRepository,
    SqlLoginSessionRepository,
    SqlOneTimeTokenRepository,
    SqlOutboxRepository,
    SqlPlanRepository,
    SqlUsageRepository,
    SqlUserRepository,
    UnreadablePlan,
)
from adapters.persistence.tables import metadata
from adapters.persistence.uow import (
    SqlUnitOfWork,
    sql_uow_factory,
)

__all__ = [
    "SchemaOutOfDate",
    "SqlAuditRepository",
    "SqlLoginSessionRepository",
    "SqlOneTimeTokenRepository",
    "SqlOutboxRepository",
    "SqlPlanRepository",
    "SqlUnitOfWork",
    "SqlUsageRepository",
    "SqlUserRepository",
    "UnreadablePlan",
    "alembic_config",
    "create_engine",
    "current_revision",
    "ensure_schema_current",
    "head_revision",
    "metadata",
    "ping",
    "sql_uow_factory",
    "upgrade_database",
]
