"""A real SMTP server for the mailer tests, and the data they share."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SENDER = "Platform <no-reply@platform.test>"
SMTP_LOGIN = "mailer"
SMTP_PASSWORD = "correct-battery-staple-9"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    recipients: list[str]
    message: EmailMessage
    login: str | None


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every message it accepts."""

    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        message = BytesParser(policy=policy.default).parsebytes(
            envelope.original_content
        )
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.received.append(
            ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, login)
        )
        return "250 Message accepted for delivery"


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    accepted = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_LOGIN.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=accepted, handled=False, auth_data=auth_data)


@dataclass
class SmtpServer:
    """A real SMTP server on 127.0.0.1, running in its own thread."""

    port: int
    handler: RecordingHandler
    controller: Controller


def start_smtp_server(port: int, *, require_login: bool = False) -> SmtpServer:
    handler = RecordingHandler()
    options: dict[str, Any] = {}
    if require_login:
        options = {
            "authenticator": check_login,
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return SmtpServer(port, handler, controller)
