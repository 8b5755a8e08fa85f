"""Delivering outbox messages, once each, with retries."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from uuid import UUID

import structlog

from platform_core.notifications.model import MailMessage
from platform_core.notifications.ports import Mailer
from platform_core.outbox.model import CLAIM_LEASE, OutboxMessage, retry_delay
from platform_core.outbox.ports import OutboxRepository
from platform_core.shared.clock import Clock
from platform_core.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)

MAIL_TOPIC = "mail.send"


async def enqueue_mail(
    repository: OutboxRepository, mail: MailMessage, clock: Clock
) -> UUID:
    """Record a mail in the caller's transaction; it goes out after commit."""
    message = OutboxMessage(
        topic=MAIL_TOPIC, payload=mail.to_payload(), created_at=clock.now()
    )
    await repository.add(message)
    return message.id


class Delivery(enum.StrEnum):
    SENT = "sent"
    ALREADY_SENT = "already_sent"
    HELD_ELSEWHERE = "held_elsewhere"
    FAILED = "failed"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class DrainSummary:
    sent: int
    failed: int
    skipped: int


class OutboxService:
    """Carries out recorded side effects; running one twice sends it once."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, mailer: Mailer
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._mailer = mailer

    async def deliver(self, message_id: UUID) -> Delivery:
        """Claim the message, carry it out, and record the outcome."""
        now = self._clock.now()
        async with self._uow() as uow:
            message = await uow.outbox.get(message_id)
            if message is None:
                return Delivery.MISSING
            if message.sent_at is not None:
                return Delivery.ALREADY_SENT
            claimed = await uow.outbox.claim(message_id, now, now + CLAIM_LEASE)
            await uow.commit()
        if not claimed:
            return Delivery.HELD_ELSEWHERE

        try:
            await self._carry_out(message)
        except Exception as error:
            attempts = message.attempts + 1
            next_attempt = self._clock.now() + retry_delay(attempts)
            async with self._uow() as uow:
                await uow.outbox.record_failure(
                    message_id,
                    attempts,
                    next_attempt,
                    f"{type(error).__name__}: {error}",
                )
                await uow.commit()
            log.warning(
                "outbox.delivery.failed",
                message_id=str(message_id),
                topic=message.topic,
                attempts=attempts,
                next_attempt_at=next_attempt.isoformat(),
                error=str(error),
            )
            return Delivery.FAILED

        async with self._uow() as uow:
            await uow.outbox.mark_sent(message_id, self._clock.now())
            await uow.commit()
        log.info(
            "outbox.delivery.sent", message_id=str(message_id), topic=message.topic
        )
        return Delivery.SENT

    async def due_messages(self, limit: int = 100) -> list[UUID]:
        """Ids of unsent messages whose next attempt is due."""
        async with self._uow() as uow:
            due = await uow.outbox.list_due(self._clock.now(), limit)
        return [message.id for message in due]

    async def drain(self, limit: int = 100) -> DrainSummary:
        """Deliver every due message now, one after the other."""
        outcomes: Counter[Delivery] = Counter()
        for message_id in await self.due_messages(limit):
            outcomes[await self.deliver(message_id)] += 1
        return DrainSummary(
            sent=outcomes[Delivery.SENT],
            failed=outcomes[Delivery.FAILED],
            skipped=sum(outcomes.values())
            - outcomes[Delivery.SENT]
            - outcomes[Delivery.FAILED],
        )

    async def _carry_out(self, message: OutboxMessage) -> None:
        if message.topic != MAIL_TOPIC:
            raise ValueError(f"no handler for outbox topic {message.topic!r}")
        await self._mailer.send(
            MailMessage.from_payload(message.payload), message_id=str(message.id)
        )
