"""Mail survives an SMTP outage: the outbox retries it with back-off, once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest

from adapters.mail import SmtpMailer, SmtpSettings
from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.notifications.model import Attachment, MailMessage
from platform_core.outbox.model import FIRST_RETRY_DELAY, OutboxMessage
from platform_core.outbox.service import enqueue_mail
from tests.contract.mail.support import SmtpServer, free_port, start_smtp_server
from tests.support import CLIENT, PASSWORD, token_from_link


@dataclasses.dataclass
class SmtpOutage:
    """A port where no SMTP server listens until `come_up` starts one."""

    port: int
    server: SmtpServer | None = None

    def come_up(self) -> None:
        self.server = start_smtp_server(self.port)

    @property
    def received(self) -> list[EmailMessage]:
        return [r.message for r in self.server.handler.received] if self.server else []


@pytest.fixture
def smtp() -> Iterator[SmtpOutage]:
    outage = SmtpOutage(free_port())
    yield outage
    if outage.server is not None:
        outage.server.controller.stop()


@pytest.fixture
def memory() -> MemoryAdapters:
    return MemoryAdapters()


@pytest.fixture
def platform(memory: MemoryAdapters, smtp: SmtpOutage) -> Platform:
    mailer = SmtpMailer(
        SmtpSettings(
            host="127.0.0.1",
            port=smtp.port,
            sender="Platform <no-reply@platform.test>",
            timeout=5.0,
        )
    )
    ports = dataclasses.replace(memory.ports(), mailer=mailer)
    return Platform(ports, IdentityPolicy(frontend_url="https://app.test"))


def only_outbox_message(memory: MemoryAdapters) -> OutboxMessage:
    [message] = memory.store.tables.outbox.values()
    return message


async def test_signup_survives_an_smtp_outage_and_the_mail_goes_out_once_later(
    platform: Platform, memory: MemoryAdapters, smtp: SmtpOutage
) -> None:
    receipt = await platform.identity.sign_up(
        email="ada@example.org", password=PASSWORD, full_name="Ada", client=CLIENT
    )
    assert receipt.email == "ada@example.org"

    first = await platform.outbox.drain()
    assert (first.sent, first.failed) == (0, 1)
    failed = only_outbox_message(memory)
    assert failed.attempts == 1
    assert failed.sent_at is None
    assert failed.next_attempt_at == memory.clock.now() + FIRST_RETRY_DELAY
    assert failed.last_error is not None
    assert "MailDeliveryError" in failed.last_error

    smtp.come_up()
    early = await platform.outbox.drain()
    assert (early.sent, early.failed, early.skipped) == (0, 0, 0)
    assert smtp.received == []

    memory.clock.advance(FIRST_RETRY_DELAY + timedelta(seconds=1))
    retried = await platform.outbox.drain()
    assert (retried.sent, retried.failed) == (1, 0)
    [mail] = smtp.received
    assert mail["To"] == "ada@example.org"
    assert mail["Message-ID"] == f"<{failed.id}@platform.test>"
    text = mail.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    assert token_from_link(text.get_content(), "verify-email")
    assert only_outbox_message(memory).sent_at == memory.clock.now()

    memory.clock.advance(timedelta(hours=2))
    again = await platform.outbox.drain()
    assert (again.sent, again.failed) == (0, 0)
    assert len(smtp.received) == 1


async def test_each_failed_attempt_doubles_the_wait_before_the_next(
    platform: Platform, memory: MemoryAdapters
) -> None:
    await platform.identity.sign_up(
        email="ada@example.org", password=PASSWORD, full_name="Ada", client=CLIENT
    )

    waits = []
    for _ in range(3):
        await platform.outbox.drain()
        message = only_outbox_message(memory)
        assert message.next_attempt_at is not None
        waits.append(message.next_attempt_at - memory.clock.now())
        memory.clock.advance(waits[-1])

    assert waits == [FIRST_RETRY_DELAY, FIRST_RETRY_DELAY * 2, FIRST_RETRY_DELAY * 4]
    assert only_outbox_message(memory).attempts == 3


async def test_attachments_travel_through_the_outbox_unchanged() -> None:
    memory = MemoryAdapters()
    platform = Platform(memory.ports(), IdentityPolicy(frontend_url="https://app.test"))
    calendar = Attachment("event.ics", "text/calendar", b"BEGIN:VCALENDAR\r\n\x00\xff")
    mail = MailMessage(
        to="ada@example.org",
        subject="Your seat",
        text="See you there.",
        html="<p>See you there.</p>",
        attachments=(calendar,),
    )
    async with memory.ports().uow_factory() as uow:
        message_id = await enqueue_mail(uow.outbox, mail, memory.clock)
        await uow.commit()

    await platform.outbox.deliver(message_id)

    assert [sent.message for sent in memory.mailer.sent] == [mail]
