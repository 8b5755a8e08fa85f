"""The audit record of a change to one registration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from platform_core.audit.service import write_audit
from platform_core.identity.model import ClientInfo, Principal
from platform_core.registrations.model import Registration
from platform_core.uow import UnitOfWork


async def audit_registration(
    uow: UnitOfWork,
    action: str,
    actor: Principal | None,
    registration: Registration,
    client: ClientInfo | None,
    *,
    at: datetime,
    **details: Any,
) -> None:
    """Append the record inside the caller's transaction, with the new status."""
    await write_audit(
        uow.audit,
        action,
        at=at,
        actor_id=None if actor is None else actor.user_id,
        target_type="registration",
        target_id=registration.id,
        client=client,
        event_id=str(registration.event_id),
        status=registration.status.value,
        **details,
    )
