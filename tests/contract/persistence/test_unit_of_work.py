from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import (
    NOW,
    Given,
    a_message,
    a_plan,
    a_session,
    a_token,
    a_user,
    an_audit_record,
    in_parallel,
)


class Boom(Exception):
    pass


class TestCommit:
    async def test_committed_changes_are_seen_by_later_units_of_work(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        user = a_user()

        async with uow_factory() as uow:
            await uow.users.add(user)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == user

    async def test_work_after_a_commit_belongs_to_a_new_transaction(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        kept, dropped = a_user(), a_user()

        async with uow_factory() as uow:
            await uow.users.add(kept)
            await uow.commit()
            await uow.users.add(dropped)

        async with uow_factory() as uow:
            assert await uow.users.get(kept.id) == kept
            assert await uow.users.get(dropped.id) is None

    async def test_one_commit_covers_every_repository(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        user = a_user()
        session, token = a_session(user), a_token(user)
        record, message = an_audit_record(actor_id=user.id), a_message()
        plan = a_plan()

        async with uow_factory() as uow:
            await uow.users.add(user)
            await uow.login_sessions.add(session)
            await uow.one_time_tokens.add(token)
            await uow.audit.add(record)
            await uow.outbox.add(message)
            await uow.plans.upsert(plan)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == user
            assert await uow.login_sessions.get(session.id) == session
            found = await uow.one_time_tokens.get_by_hash(
                token.token_hash, token.purpose
            )
            assert found == token
            assert await uow.audit.list() == [record]
            assert await uow.outbox.get(message.id) == message
            assert await uow.plans.get(plan.code) == plan


class TestRollback:
    async def test_leaving_without_commit_discards_every_change(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        message = a_message()

        async with uow_factory() as uow:
            await uow.users.add(a_user(email="ghost@example.org"))
            await uow.audit.add(an_audit_record())
            await uow.outbox.add(message)

        async with uow_factory() as uow:
            assert await uow.users.get_by_email("ghost@example.org") is None
            assert await uow.audit.count() == 0
            assert await uow.outbox.get(message.id) is None
            assert await uow.users.get(user.id) == user

    async def test_an_exception_leaving_the_block_discards_the_changes(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        user = a_user()

        async def add_then_fail() -> None:
            async with uow_factory() as uow:
                await uow.users.add(user)
                raise Boom

        with pytest.raises(Boom):
            await add_then_fail()

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) is None

    async def test_rollback_discards_changes_since_the_last_commit_only(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        kept, dropped, after = a_user(), a_user(), a_user()

        async with uow_factory() as uow:
            await uow.users.add(kept)
            await uow.commit()
            await uow.users.add(dropped)
            await uow.rollback()
            assert await uow.users.get(dropped.id) is None
            await uow.users.add(after)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.users.get(kept.id) == kept
            assert await uow.users.get(dropped.id) is None
            assert await uow.users.get(after.id) == after

    async def test_rolled_back_conditional_update_can_be_won_again(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        token = a_token(user)
        await given(user, token)

        async with uow_factory() as uow:
            assert await uow.one_time_tokens.consume(token.id, NOW)

        async with uow_factory() as uow:
            assert await uow.one_time_tokens.consume(token.id, NOW)


class TestConcurrency:
    async def test_thirty_concurrent_writers_all_commit(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async def write(uow: UnitOfWork) -> None:
            user = a_user()
            await uow.users.add(user)
            await uow.audit.add(an_audit_record("identity.signup", actor_id=user.id))
            await uow.outbox.add(a_message())

        await in_parallel(uow_factory, 30, write)

        async with uow_factory() as uow:
            assert await uow.audit.count(action="identity.signup") == 30

    async def test_concurrent_readers_and_writers_all_finish(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)

        async def read_then_write(uow: UnitOfWork) -> bool:
            found = await uow.users.get(user.id)
            await uow.audit.add(an_audit_record("identity.profile.viewed"))
            return found == user

        outcomes = await in_parallel(uow_factory, 30, read_then_write)

        assert all(outcomes)


class TestInstants:
    async def test_instants_come_back_aware_equal_and_exact_to_the_microsecond(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        in_utc = datetime(2031, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        elsewhere = datetime(
            2031, 6, 1, 8, 0, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))
        )
        user = a_user(created_at=in_utc, verified_at=elsewhere, is_verified=True)

        await given(user)

        async with uow_factory() as uow:
            stored = await uow.users.get(user.id)
        assert stored is not None
        assert stored.created_at == in_utc
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.verified_at == elsewhere
        assert stored.verified_at is not None
        assert stored.verified_at.utcoffset() is not None

    async def test_comparisons_hold_across_time_zones(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        plus_two = timezone(timedelta(hours=2))
        expires_in_local_time = (NOW + timedelta(hours=1)).astimezone(plus_two)
        session = a_session(user, expires_at=expires_in_local_time)
        await given(user, session)

        async with uow_factory() as uow:
            sessions = uow.login_sessions
            assert await sessions.list_for_user(user.id, active_at=NOW) == [session]
            later = NOW + timedelta(minutes=61)
            assert await sessions.list_for_user(user.id, active_at=later) == []
