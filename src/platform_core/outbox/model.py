"""Outbox messages and their delivery schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from platform_core.shared.ids import new_id

FIRST_RETRY_DELAY = timedelta(seconds=15)
LONGEST_RETRY_DELAY = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: 15 s, 30 s, 1 min, ... capped at one hour."""
    delay: timedelta = FIRST_RETRY_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY_DELAY)


@dataclass(slots=True)
class OutboxMessage:
    """A side effect to carry out after the transaction that recorded it commits."""

    topic: str
    payload: dict[str, Any]
    created_at: datetime
    id: UUID = field(default_factory=new_id)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    locked_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    def __post_init__(self) -> None:
        if self.next_attempt_at is None:
            self.next_attempt_at = self.created_at
