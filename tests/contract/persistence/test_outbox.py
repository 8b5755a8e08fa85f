from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_message, in_parallel

LEASE_END = NOW + timedelta(minutes=5)


class TestAdd:
    async def test_message_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message(
            payload={"to": ["ada@example.org"], "vars": {"n": 1, "ok": True}},
            attempts=2,
            next_attempt_at=NOW + timedelta(seconds=30),
            last_error="SMTP 451",
        )

        await given(message)

        async with uow_factory() as uow:
            assert await uow.outbox.get(message.id) == message
            assert await uow.outbox.get(new_id()) is None

    async def test_new_message_is_due_when_created(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message()

        await given(message)

        async with uow_factory() as uow:
            stored = await uow.outbox.get(message.id)
        assert stored is not None
        assert stored.next_attempt_at == message.created_at


class TestListDue:
    async def test_lists_unsent_unleased_due_messages_oldest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        older = a_message(created_at=NOW - timedelta(minutes=2))
        newer = a_message(created_at=NOW - timedelta(minutes=1))
        due_now = a_message(created_at=NOW)
        lease_over = a_message(created_at=NOW - timedelta(minutes=3), locked_until=NOW)
        not_yet = a_message(next_attempt_at=NOW + timedelta(seconds=1))
        leased = a_message(locked_until=NOW + timedelta(seconds=1))
        sent = a_message(sent_at=NOW)
        await given(newer, due_now, not_yet, leased, sent, older, lease_over)

        async with uow_factory() as uow:
            due = await uow.outbox.list_due(NOW, limit=10)
            first_two = await uow.outbox.list_due(NOW, limit=2)

        assert due == [lease_over, older, newer, due_now]
        assert first_two == [lease_over, older]


class TestClaim:
    async def test_claim_takes_a_lease_that_hides_the_message_until_it_ends(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message()
        await given(message)

        async with uow_factory() as uow:
            assert await uow.outbox.claim(message.id, NOW, LEASE_END)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.outbox.get(message.id) == replace(
                message, locked_until=LEASE_END
            )
            assert await uow.outbox.list_due(NOW, limit=10) == []
            assert not await uow.outbox.claim(message.id, NOW, LEASE_END)
            assert await uow.outbox.list_due(LEASE_END, limit=10) != []

    async def test_expired_lease_can_be_claimed_again(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message(locked_until=NOW)
        await given(message)
        new_end = NOW + timedelta(minutes=5)

        async with uow_factory() as uow:
            assert await uow.outbox.claim(message.id, NOW, new_end)

    async def test_sent_or_unknown_message_cannot_be_claimed(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        sent = a_message(sent_at=NOW)
        await given(sent)

        async with uow_factory() as uow:
            assert not await uow.outbox.claim(sent.id, NOW, LEASE_END)
            assert not await uow.outbox.claim(new_id(), NOW, LEASE_END)

    async def test_of_twenty_concurrent_claims_exactly_one_wins(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message()
        await given(message)

        async def claim(uow: UnitOfWork) -> bool:
            return await uow.outbox.claim(message.id, NOW, LEASE_END)

        outcomes = await in_parallel(uow_factory, 20, claim)

        assert outcomes.count(True) == 1


class TestMarkSent:
    async def test_marks_sent_releases_the_lease_and_drops_the_payload(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message(locked_until=LEASE_END)
        await given(message)
        sent_at = NOW + timedelta(seconds=2)

        async with uow_factory() as uow:
            await uow.outbox.mark_sent(message.id, sent_at)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.outbox.get(message.id) == replace(
                message, sent_at=sent_at, locked_until=None, payload={}
            )
            assert await uow.outbox.list_due(LEASE_END, limit=10) == []

    async def test_unknown_message_raises_key_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.outbox.mark_sent(new_id(), NOW)


class TestRecordFailure:
    async def test_counts_the_attempt_schedules_the_next_and_releases_the_lease(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        message = a_message(locked_until=LEASE_END)
        await given(message)
        retry_at = NOW + timedelta(seconds=15)

        async with uow_factory() as uow:
            await uow.outbox.record_failure(message.id, 1, retry_at, "SMTP 421")
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.outbox.get(message.id) == replace(
                message,
                attempts=1,
                next_attempt_at=retry_at,
                last_error="SMTP 421",
                locked_until=None,
            )
            assert await uow.outbox.list_due(NOW, limit=10) == []
            assert await uow.outbox.list_due(retry_at, limit=10) != []

    async def test_unknown_message_raises_key_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.outbox.record_failure(new_id(), 1, NOW, "boom")
