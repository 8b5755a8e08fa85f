"""Ports of the audit context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from platform_core.audit.model import AuditRecord


class AuditRepository(Protocol):
    """Append-only store of audit records."""

    async def add(self, record: AuditRecord) -> None: ...

    async def list(
        self,
        *,
        actor_id: UUID | None = None,
        action: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Sequence[AuditRecord]:
        """Newest first."""
        ...

    async def count(
        self, *, actor_id: UUID | None = None, action: str | None = None
    ) -> int: ...
