"""What the outbox needs from the outside."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from platform_core.outbox.model import OutboxMessage


class OutboxRepository(Protocol):
    """Stores outbox messages in the same transaction as the change."""

    async def add(self, message: OutboxMessage) -> None: ...

    async def get(self, message_id: UUID) -> OutboxMessage | None: ...

    async def list_due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Unsent messages whose next attempt is due and that nobody holds."""
        ...

    async def claim(self, message_id: UUID, now: datetime, until: datetime) -> bool:
        """Take the lease on an unsent, unleased message; false if that failed."""
        ...

    async def mark_sent(self, message_id: UUID, now: datetime) -> None:
        """Record delivery and drop the payload: mail may hold one-time links."""
        ...

    async def record_failure(
        self,
        message_id: UUID,
        attempts: int,
        next_attempt_at: datetime,
        error: str,
    ) -> None:
        """Count a failed attempt, release the lease and set the next try."""
        ...


class MessageDispatcher(Protocol):
    """Hands committed outbox messages to the task queue."""

    async def dispatch(self, message_ids: Sequence[UUID]) -> None: ...
