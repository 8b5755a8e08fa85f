"""Ports of the notifications context."""

from __future__ import annotations

from typing import Protocol

from platform_core.notifications.model import MailMessage


class MailDeliveryError(Exception):
    """The mailer could not hand the message over; it may work later."""


class Mailer(Protocol):
    """Delivers one mail message or raises MailDeliveryError."""

    async def send(self, message: MailMessage, *, message_id: str) -> None: ...
