from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from platform_core.identity.model import TokenPurpose
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_token, a_user, in_parallel

LATER = NOW + timedelta(minutes=10)
VERIFY = TokenPurpose.VERIFY_EMAIL
RESET = TokenPurpose.RESET_PASSWORD


class TestGetByHash:
    async def test_token_is_found_by_its_digest_and_purpose(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        token = a_token(user, RESET, used_at=NOW)
        await given(user, token)

        async with uow_factory() as uow:
            assert (
                await uow.one_time_tokens.get_by_hash(token.token_hash, RESET) == token
            )

    async def test_digest_of_another_purpose_finds_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        token = a_token(user, VERIFY)
        await given(user, token)

        async with uow_factory() as uow:
            assert (
                await uow.one_time_tokens.get_by_hash(token.token_hash, RESET) is None
            )
            assert await uow.one_time_tokens.get_by_hash("0" * 64, VERIFY) is None


class TestConsume:
    async def test_unused_token_is_consumed_once(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        token = a_token(user)
        await given(user, token)

        async with uow_factory() as uow:
            assert await uow.one_time_tokens.consume(token.id, LATER)
            assert not await uow.one_time_tokens.consume(token.id, LATER)
            await uow.commit()

        async with uow_factory() as uow:
            stored = await uow.one_time_tokens.get_by_hash(token.token_hash, VERIFY)
        assert stored == replace(token, used_at=LATER)

    async def test_used_token_cannot_be_consumed(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        token = a_token(user, used_at=NOW)
        await given(user, token)

        async with uow_factory() as uow:
            assert not await uow.one_time_tokens.consume(token.id, LATER)
            assert not await uow.one_time_tokens.consume(new_id(), LATER)

    async def test_of_twenty_concurrent_consumptions_exactly_one_succeeds(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        token = a_token(user)
        await given(user, token)

        async def consume(uow: UnitOfWork) -> bool:
            return await uow.one_time_tokens.consume(token.id, LATER)

        outcomes = await in_parallel(uow_factory, 20, consume)

        assert outcomes.count(True) == 1


class TestVoidUnused:
    async def test_uses_up_the_users_unused_tokens_of_that_purpose_only(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, someone_else = a_user(), a_user()
        first, second = a_token(user, RESET), a_token(user, RESET)
        used = a_token(user, RESET, used_at=NOW)
        other_purpose = a_token(user, VERIFY)
        foreign = a_token(someone_else, RESET)
        await given(user, someone_else, first, second, used, other_purpose, foreign)

        async with uow_factory() as uow:
            voided = await uow.one_time_tokens.void_unused(user.id, RESET, LATER)
            await uow.commit()

        assert voided == 2
        async with uow_factory() as uow:
            for token in (first, second):
                stored = await uow.one_time_tokens.get_by_hash(token.token_hash, RESET)
                assert stored == replace(token, used_at=LATER)
            for untouched in (used, other_purpose, foreign):
                stored = await uow.one_time_tokens.get_by_hash(
                    untouched.token_hash, untouched.purpose
                )
                assert stored == untouched
