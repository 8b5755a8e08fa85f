"""Turning a core mail message into an RFC 5322 message, shared by every mailer."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from platform_core.notifications.model import MailMessage

MAX_8BIT_LINE = 998
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def check_message_id(message_id: str) -> str:
    """The id unchanged, if it is safe as a file name and a Message-ID local part."""
    if not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"unusable mail message id {message_id!r}")
    return message_id


def sender_domain(sender: str) -> str:
    """The domain of the sender's address, which qualifies Message-ID headers."""
    _, address = parseaddr(sender)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain):
        raise ValueError(f"the sender {sender!r} has no address with a domain")
    return domain


def recipient_domain(address: str) -> str:
    """What may be logged about a recipient: the domain, never the mailbox."""
    return address.rpartition("@")[2] or "unknown"


def _encoding(body: str) -> str:
    """8bit keeps links readable in the saved file; longer lines need quoting."""
    longest = max((len(line.encode()) for line in body.splitlines()), default=0)
    return "8bit" if longest <= MAX_8BIT_LINE else "quoted-printable"


def build_email(
    message: MailMessage,
    *,
    sender: str,
    message_id: str,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """A multipart/alternative message with a text and an HTML part, in UTF-8.

    The Message-ID is derived from the outbox message id, so a retried
    delivery carries the same Message-ID and receivers can spot duplicates.
    """
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at or datetime.now(UTC))
    email["Message-ID"] = f"<{check_message_id(message_id)}@{sender_domain(sender)}>"
    email.set_content(message.text, charset="utf-8", cte=_encoding(message.text))
    email.add_alternative(
        message.html, subtype="html", charset="utf-8", cte=_encoding(message.html)
    )
    for attachment in message.attachments:
        maintype, slash, subtype = attachment.content_type.partition("/")
        if not (slash and maintype and subtype):
            maintype, subtype = "application", "octet-stream"
        email.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    return email
