"""Ports of the notifications context."""

from __future__ import annotations

from collections.abc import Sequence
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
        self, user_id: UUID, *, limit: int, offset: int = 0
    ) -> Sequence[Notification]:
        """Newest first."""
        ...
