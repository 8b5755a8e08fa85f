"""A mailer that hands messages to an SMTP server."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiosmtplib
import structlog

from adapters.mail.message import build_email, recipient_domain, sender_domain
from platform_core.notifications.model import MailMessage
from platform_core.notifications.ports import MailDeliveryError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to reach the SMTP server; `password` never shows in a repr."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    use_tls: bool = False
    timeout: float = 30.0
    cert_bundle: str | None = None

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ValueError(
                "choose either STARTTLS or implicit TLS for SMTP, not both"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP login needs both a username and a password")
        if self.timeout <= 0:
            raise ValueError("the SMTP timeout must be positive")
        sender_domain(self.sender)


class SmtpMailer:
    """Sends each message over one SMTP connection; any failure is retryable."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    async def send(self, message: MailMessage, *, message_id: str) -> None:
        settings = self._settings
        email = build_email(message, sender=settings.sender, message_id=message_id)
        try:
            await aiosmtplib.send(
                email,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                start_tls=settings.starttls,
                use_tls=settings.use_tls,
                timeout=settings.timeout,
                cert_bundle=settings.cert_bundle,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            log.warning(
                "mail.smtp.failed",
                host=settings.host,
                port=settings.port,
                message_id=message_id,
                error=f"{type(error).__name__}: {error}",
            )
            raise MailDeliveryError(
                f"SMTP delivery via {settings.host}:{settings.port} failed: {error}"
            ) from error
        log.info(
            "mail.smtp.sent",
            host=settings.host,
            message_id=message_id,
            recipient_domain=recipient_domain(message.to),
        )
