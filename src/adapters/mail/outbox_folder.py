"""A mailer that writes each message as an `.eml` file into a folder."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from email import policy
from pathlib import Path

import structlog

from adapters.mail.message import (
    build_email,
    check_message_id,
    recipient_domain,
    sender_domain,
)
from platform_core.notifications.model import MailMessage
from platform_core.notifications.ports import MailDeliveryError

log = structlog.get_logger(__name__)


class OutboxFolderMailer:
    """Writes `<message_id>.eml` files atomically; sending one id twice keeps one file.

    Files are readable by their owner only, because they carry sign-in and
    reset links.
    """

    def __init__(self, folder: Path, sender: str) -> None:
        sender_domain(sender)
        self._folder = folder
        self._sender = sender

    @property
    def folder(self) -> Path:
        return self._folder

    async def send(self, message: MailMessage, *, message_id: str) -> None:
        email = build_email(message, sender=self._sender, message_id=message_id)
        content = email.as_bytes(policy=policy.SMTP)
        name = f"{check_message_id(message_id)}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, content)
        except OSError as error:
            log.warning(
                "mail.outbox.failed",
                folder=str(self._folder),
                message_id=message_id,
                error=str(error),
            )
            raise MailDeliveryError(
                f"could not write {name} to {self._folder}: {error}"
            ) from error
        log.info(
            "mail.outbox.written",
            path=str(path),
            message_id=message_id,
            recipient_domain=recipient_domain(message.to),
        )

    def _write(self, name: str, content: bytes) -> Path:
        self._folder.mkdir(parents=True, exist_ok=True)
        target = self._folder / name
        # The temporary name starts with a dot and does not end in .eml, so a
        # reader listing *.eml files never picks up a half-written message.
        handle, temporary = tempfile.mkstemp(
            dir=self._folder, prefix=f".{name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _sync_directory(self._folder)
        return target


def _sync_directory(folder: Path) -> None:
    """Make the rename durable; only POSIX systems can open a directory for it."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
