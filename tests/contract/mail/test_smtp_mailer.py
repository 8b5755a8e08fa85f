from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from adapters.mail import SmtpMailer, SmtpSettings
from platform_core.notifications.model import MailMessage
from platform_core.notifications.ports import MailDeliveryError

from .support import SENDER, SMTP_LOGIN, SMTP_PASSWORD, SmtpServer, free_port

# Without a certificate to offer, the test server takes logins in clear text.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)

MESSAGE_ID = "5b0e3c55-6a8f-4d0c-8a3e-2f9d4b7c1a22"

RECEIPT = MailMessage(
    to="grace@example.org",
    subject="Ihre Anmeldung für „Kurs Ä“",
    text="Hallo Grace,\n\nwir freuen uns auf Sie. ✓\n",
    html="<p>Hallo Grace,</p><p>wir freuen uns auf Sie. ✓</p>",
)


def settings(port: int, **changes: Any) -> SmtpSettings:
    base = SmtpSettings(host="127.0.0.1", port=port, sender=SENDER, timeout=5.0)
    return dataclasses.replace(base, **changes)


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word."""

    async def stay_silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(stay_silent, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_message_reaches_the_smtp_server(smtp_server: SmtpServer) -> None:
    await SmtpMailer(settings(smtp_server.port)).send(RECEIPT, message_id=MESSAGE_ID)

    [received] = smtp_server.handler.received
    assert received.mail_from == "no-reply@platform.test"
    assert received.recipients == ["grace@example.org"]
    assert received.login is None
    message = received.message
    assert message["Subject"] == RECEIPT.subject
    assert message["From"] == SENDER
    assert message["Message-ID"] == f"<{MESSAGE_ID}@platform.test>"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().replace("\r\n", "\n") == RECEIPT.text
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == RECEIPT.html


async def test_mailer_logs_in_when_credentials_are_configured(
    smtp_server_with_login: SmtpServer,
) -> None:
    mailer = SmtpMailer(
        settings(
            smtp_server_with_login.port, username=SMTP_LOGIN, password=SMTP_PASSWORD
        )
    )

    await mailer.send(RECEIPT, message_id=MESSAGE_ID)

    [received] = smtp_server_with_login.handler.received
    assert received.login == SMTP_LOGIN


async def test_rejected_login_fails_without_logging_the_password(
    smtp_server_with_login: SmtpServer,
) -> None:
    mailer = SmtpMailer(
        settings(
            smtp_server_with_login.port,
            username=SMTP_LOGIN,
            password="not-the-password-7",
        )
    )

    with capture_logs() as logs, pytest.raises(MailDeliveryError):
        await mailer.send(RECEIPT, message_id=MESSAGE_ID)

    [entry] = logs
    assert entry["event"] == "mail.smtp.failed"
    assert entry["host"] == "127.0.0.1"
    assert "Authentication" in entry["error"]
    assert "not-the-password-7" not in repr(logs)
    assert smtp_server_with_login.handler.received == []


async def test_server_that_requires_login_refuses_anonymous_mail(
    smtp_server_with_login: SmtpServer,
) -> None:
    with pytest.raises(MailDeliveryError):
        await SmtpMailer(settings(smtp_server_with_login.port)).send(
            RECEIPT, message_id=MESSAGE_ID
        )

    assert smtp_server_with_login.handler.received == []


async def test_required_starttls_is_not_skipped_when_the_server_lacks_it(
    smtp_server: SmtpServer,
) -> None:
    mailer = SmtpMailer(settings(smtp_server.port, starttls=True))

    with pytest.raises(MailDeliveryError, match="STARTTLS"):
        await mailer.send(RECEIPT, message_id=MESSAGE_ID)

    assert smtp_server.handler.received == []


async def test_unreachable_server_raises_mail_delivery_error() -> None:
    port = free_port()

    with capture_logs() as logs, pytest.raises(MailDeliveryError):
        await SmtpMailer(settings(port)).send(RECEIPT, message_id=MESSAGE_ID)

    [entry] = logs
    assert entry["event"] == "mail.smtp.failed"
    assert entry["port"] == port


async def test_silent_server_times_out_as_mail_delivery_error(
    silent_server: int,
) -> None:
    mailer = SmtpMailer(settings(silent_server, timeout=0.3))
    started = time.monotonic()

    with pytest.raises(MailDeliveryError):
        await asyncio.wait_for(mailer.send(RECEIPT, message_id=MESSAGE_ID), 5)

    assert time.monotonic() - started < 3


def test_password_never_shows_in_the_settings_repr() -> None:
    configured = settings(25, username=SMTP_LOGIN, password=SMTP_PASSWORD)

    assert SMTP_PASSWORD not in repr(configured)


@pytest.mark.parametrize(
    "changes",
    [
        {"starttls": True, "use_tls": True},
        {"username": SMTP_LOGIN},
        {"password": SMTP_PASSWORD},
        {"timeout": 0},
        {"sender": "no-reply"},
    ],
)
def test_contradictory_settings_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"SMTP|sender"):
        settings(25, **changes)
