"""What every Mailer promises, checked against each implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from adapters.mail import OutboxFolderMailer, SmtpMailer, SmtpSettings
from adapters.memory import MemoryMailer
from platform_core.notifications.model import MailMessage
from platform_core.notifications.ports import MailDeliveryError, Mailer

from .support import SENDER, free_port, start_smtp_server


@dataclass(frozen=True)
class Delivered:
    to: str
    subject: str
    text: str
    html: str


def _from_email(message: EmailMessage) -> Delivered:
    def body(subtype: str) -> str:
        part = message.get_body((subtype,))
        assert isinstance(part, EmailMessage)
        content: str = part.get_content()
        return content.replace("\r\n", "\n").rstrip("\n")

    return Delivered(
        str(message["To"]), str(message["Subject"]), body("plain"), body("html")
    )


@dataclass
class Harness:
    mailer: Mailer
    unreachable: Mailer
    delivered: Callable[[], list[Delivered]]


def memory_harness(tmp_path: Path) -> Iterator[Harness]:
    mailer = MemoryMailer()

    def delivered() -> list[Delivered]:
        return [
            Delivered(
                s.message.to,
                s.message.subject,
                s.message.text.rstrip("\n"),
                s.message.html.rstrip("\n"),
            )
            for s in mailer.sent
        ]

    yield Harness(mailer, MemoryMailer(failing=True), delivered)


def folder_harness(tmp_path: Path) -> Iterator[Harness]:
    folder = tmp_path / "outbox"
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")

    def delivered() -> list[Delivered]:
        parser = BytesParser(policy=policy.default)
        messages = [parser.parsebytes(p.read_bytes()) for p in folder.glob("*.eml")]
        return [_from_email(m) for m in messages if isinstance(m, EmailMessage)]

    yield Harness(
        OutboxFolderMailer(folder, SENDER),
        OutboxFolderMailer(blocked, SENDER),
        delivered,
    )


def smtp_harness(tmp_path: Path) -> Iterator[Harness]:
    server = start_smtp_server(free_port())
    try:
        yield Harness(
            SmtpMailer(SmtpSettings("127.0.0.1", server.port, SENDER, timeout=5.0)),
            SmtpMailer(SmtpSettings("127.0.0.1", free_port(), SENDER, timeout=5.0)),
            lambda: [_from_email(r.message) for r in server.handler.received],
        )
    finally:
        server.controller.stop()


@pytest.fixture(
    params=[memory_harness, folder_harness, smtp_harness],
    ids=["memory", "folder", "smtp"],
)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from request.param(tmp_path)


WELCOME = MailMessage(
    to="ada@example.org",
    subject="Willkommen, Ada ✓",
    text="Hallo Ada,\n\nIhr Konto ist bereit: https://app.test/sign-in\n",
    html='<p>Hallo Ada,</p><p><a href="https://app.test/sign-in">Anmelden</a></p>',
)


async def test_sent_message_is_delivered_once_with_both_bodies(
    harness: Harness,
) -> None:
    await harness.mailer.send(WELCOME, message_id="welcome-1")

    assert harness.delivered() == [
        Delivered(
            WELCOME.to,
            WELCOME.subject,
            WELCOME.text.rstrip("\n"),
            WELCOME.html,
        )
    ]


async def test_different_messages_are_delivered_separately(
    harness: Harness,
) -> None:
    other = MailMessage(to="bob@example.net", subject="Hi", text="Hi", html="<p>Hi</p>")

    await harness.mailer.send(WELCOME, message_id="welcome-1")
    await harness.mailer.send(other, message_id="welcome-2")

    assert sorted(d.to for d in harness.delivered()) == [
        "ada@example.org",
        "bob@example.net",
    ]


async def test_failed_delivery_raises_mail_delivery_error(harness: Harness) -> None:
    with pytest.raises(MailDeliveryError):
        await harness.unreachable.send(WELCOME, message_id="welcome-1")

    assert harness.delivered() == []
