from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from platform_core.identity.ports import DuplicateEmail
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_user, an_audit_record, in_parallel


class TestAdd:
    async def test_added_user_is_found_by_id_and_by_email(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user(email="ada@example.org")

        await given(user)

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == user
            assert await uow.users.get_by_email("ada@example.org") == user

    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user(
            first_name="Grace",
            last_name="Brewster Murray Hopper",
            is_verified=True,
            verified_at=NOW + timedelta(minutes=5),
            is_active=False,
            is_staff=True,
            is_organizer=True,
            is_lms_owner=True,
            updated_at=NOW + timedelta(hours=1),
        )

        await given(user)

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == user

    async def test_second_account_with_the_same_email_raises_duplicate_email(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await given(a_user(email="ada@example.org"))

        async with uow_factory() as uow:
            with pytest.raises(DuplicateEmail):
                await uow.users.add(a_user(email="ada@example.org"))

    async def test_unit_of_work_stays_usable_after_a_duplicate_email(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await given(a_user(email="ada@example.org"))
        other = a_user(email="grace@example.org")

        async with uow_factory() as uow:
            with pytest.raises(DuplicateEmail):
                await uow.users.add(a_user(email="ada@example.org"))
            await uow.users.add(other)
            await uow.audit.add(an_audit_record("identity.signup.refused"))
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.users.get(other.id) == other
            assert await uow.audit.count(action="identity.signup.refused") == 1

    async def test_concurrent_signups_with_one_email_create_one_account(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async def sign_up(uow: UnitOfWork) -> bool:
            try:
                await uow.users.add(a_user(email="rush@example.org"))
            except DuplicateEmail:
                return False
            return True

        outcomes = await in_parallel(uow_factory, 20, sign_up)

        assert outcomes.count(True) == 1


class TestGet:
    async def test_unknown_id_and_unknown_email_find_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await given(a_user(email="ada@example.org"))

        async with uow_factory() as uow:
            assert await uow.users.get(new_id()) is None
            assert await uow.users.get_by_email("nobody@example.org") is None

    async def test_email_lookup_is_exact_because_emails_are_stored_normalized(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await given(a_user(email="ada@example.org"))

        async with uow_factory() as uow:
            assert await uow.users.get_by_email("ADA@example.org") is None

    async def test_changing_a_returned_user_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)

        async with uow_factory() as uow:
            loaded = await uow.users.get(user.id)
            assert loaded is not None
            loaded.is_staff = True
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == user


class TestUpdate:
    async def test_update_replaces_the_stored_fields(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user(email="ada@example.org")
        await given(user)
        changed = replace(
            user,
            email="countess@example.org",
            password_hash="$argon2id$new",
            is_verified=True,
            verified_at=NOW,
            updated_at=NOW,
        )

        async with uow_factory() as uow:
            await uow.users.update(changed)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.users.get(user.id) == changed
            assert await uow.users.get_by_email("ada@example.org") is None
            assert await uow.users.get_by_email("countess@example.org") == changed

    async def test_updating_an_unknown_user_raises_key_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.users.update(a_user())
