"""Mail messages as the core composes them."""

from __future__ import annotations

import base64
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
        """A JSON-ready form for the outbox; attachment bytes travel as base64."""
        payload: dict[str, Any] = {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
        }
        if self.attachments:
            payload["attachments"] = [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "content": base64.b64encode(a.content).decode("ascii"),
                }
                for a in self.attachments
            ]
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> MailMessage:
        return cls(
            to=str(payload["to"]),
            subject=str(payload["subject"]),
            text=str(payload["text"]),
            html=str(payload["html"]),
            attachments=tuple(
                Attachment(
                    filename=str(a["filename"]),
                    content_type=str(a["content_type"]),
                    content=base64.b64decode(a["content"], validate=True),
                )
                for a in payload.get("attachments", ())
            ),
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
