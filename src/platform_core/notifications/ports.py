"""Ports of the notifications context."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from platform_core.notifications.model import MailMessage, Notification


class MailDeliveryError(Exception):
    """The mailer could not hand the message over; it may work later."""


class Mailer(Protocol):
    """Delivers one mail message or raises MailDeliveryError."""

    async def send(self, message: MailMessage, *, message_id: str) -> None: ...


class NotificationRepository(Protocol):
    """In-app notifications of users."""

    async def add(self, notification: Notification) -> bool:
        """Store it; false (and nothing stored) when its dedupe key exists."""
        ...

    async def list_for_user(
        self,
        user_id: UUID,
        *,
        limit: int,
        offset: int = 0,
        unread: bool | None = None,
    ) -> Sequence[Notification]:
        """Newest first (the id orders those of one instant); `unread` True keeps
        the unread ones, False the read ones, None all."""
        ...

    async def count_for_user(self, user_id: UUID, *, unread: bool | None = None) -> int:
        """How many `list_for_user` would give without a limit."""
        ...

    async def get(self, notification_id: UUID) -> Notification | None: ...

    async def mark_read(self, notification_id: UUID, at: datetime) -> bool:
        """Stamp `read_at` if it is unread, in one conditional update; true if so."""
        ...

    async def mark_all_read(self, user_id: UUID, at: datetime) -> int:
        """Stamp every unread notification of the user; how many there were."""
        ...
