"""Mail messages as the core composes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from platform_core.shared.ids import new_id


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One mail with a plain-text and an HTML body."""

    to: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default=())

    def to_payload(self) -> dict[str, Any]:
        if self.attachments:
            raise ValueError("attachments are not carried through the outbox yet")
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> MailMessage:
        return cls(
            to=str(payload["to"]),
            subject=str(payload["subject"]),
            text=str(payload["text"]),
            html=str(payload["html"]),
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """An in-app notification; `dedupe_key` makes each one happen once."""

    user_id: UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    dedupe_key: str
    id: UUID = field(default_factory=new_id)
    read_at: datetime | None = None
