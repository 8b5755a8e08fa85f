"""Writing and reading audit records."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from platform_core.audit.model import AuditRecord
from platform_core.audit.ports import AuditRepository
from platform_core.identity.model import ClientInfo, Principal
from platform_core.shared.errors import PermissionDenied
from platform_core.shared.pagination import Page, PageRequest
from platform_core.uow import UnitOfWorkFactory


async def write_audit(
    repository: AuditRepository,
    action: str,
    *,
    at: datetime,
    actor_id: UUID | None,
    target_type: str,
    target_id: object | None,
    client: ClientInfo | None,
    **details: Any,
) -> None:
    """Append one record inside the caller's transaction."""
    await repository.add(
        AuditRecord(
            action=action,
            at=at,
            actor_id=actor_id,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            client_address=client.address if client else None,
            details=details,
        )
    )


class AuditService:
    """Lets staff read the audit trail."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow = uow_factory

    async def list_records(
        self,
        actor: Principal | None,
        page: PageRequest,
        *,
        action: str | None = None,
        actor_id: UUID | None = None,
    ) -> Page[AuditRecord]:
        """Newest first; `actor` None means the operator at the command line."""
        if actor is not None and not actor.is_staff:
            raise PermissionDenied("Only staff may read the audit trail.")
        async with self._uow() as uow:
            items = await uow.audit.list(
                actor_id=actor_id,
                action=action,
                offset=page.offset,
                limit=page.page_size,
            )
            total = await uow.audit.count(actor_id=actor_id, action=action)
        return Page(items=items, total=total, request=page)
