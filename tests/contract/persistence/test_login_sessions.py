from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_session, a_user, in_parallel

LATER = NOW + timedelta(minutes=10)


class TestAdd:
    async def test_added_session_is_found_with_every_field(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(
            user, client_address=None, revoked_at=NOW, revoke_reason="logout"
        )

        await given(user, session)

        async with uow_factory() as uow:
            assert await uow.login_sessions.get(session.id) == session
            assert await uow.login_sessions.get(new_id()) is None


class TestListForUser:
    async def test_lists_only_the_users_active_sessions_newest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, someone_else = a_user(), a_user()
        oldest = a_session(user, created_at=NOW - timedelta(days=2))
        newest = a_session(user, created_at=NOW - timedelta(hours=1))
        middle = a_session(user, created_at=NOW - timedelta(days=1))
        revoked = a_session(user, revoked_at=NOW - timedelta(minutes=1))
        expired = a_session(user, expires_at=NOW)
        foreign = a_session(someone_else)

        await given(
            user, someone_else, oldest, newest, middle, revoked, expired, foreign
        )

        async with uow_factory() as uow:
            listed = await uow.login_sessions.list_for_user(user.id, active_at=NOW)
        assert listed == [newest, middle, oldest]


class TestRotate:
    async def test_rotation_with_the_expected_token_id_swaps_it(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(user, refresh_token_id="first")
        await given(user, session)

        async with uow_factory() as uow:
            assert await uow.login_sessions.rotate(session.id, "first", "second", LATER)
            await uow.commit()

        async with uow_factory() as uow:
            stored = await uow.login_sessions.get(session.id)
        assert stored == replace(session, refresh_token_id="second", last_used_at=LATER)

    async def test_rotation_with_a_stale_token_id_fails_and_changes_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(user, refresh_token_id="current")
        await given(user, session)

        async with uow_factory() as uow:
            rotated = await uow.login_sessions.rotate(
                session.id, "stale", "next", LATER
            )
            await uow.commit()

        assert not rotated
        async with uow_factory() as uow:
            assert await uow.login_sessions.get(session.id) == session

    async def test_revoked_session_cannot_rotate(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(user, refresh_token_id="current", revoked_at=NOW)
        await given(user, session)

        async with uow_factory() as uow:
            assert not await uow.login_sessions.rotate(
                session.id, "current", "next", LATER
            )

    async def test_unknown_session_cannot_rotate(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            assert not await uow.login_sessions.rotate(new_id(), "a", "b", LATER)

    async def test_of_twenty_concurrent_rotations_from_one_token_exactly_one_wins(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(user, refresh_token_id="shared")
        await given(user, session)
        new_ids = iter(f"next-{n}" for n in range(20))

        async def rotate(uow: UnitOfWork) -> str | None:
            new_id_ = next(new_ids)
            won = await uow.login_sessions.rotate(session.id, "shared", new_id_, LATER)
            return new_id_ if won else None

        outcomes = await in_parallel(uow_factory, 20, rotate)

        winners = [o for o in outcomes if o is not None]
        assert len(winners) == 1
        async with uow_factory() as uow:
            stored = await uow.login_sessions.get(session.id)
        assert stored is not None
        assert stored.refresh_token_id == winners[0]


class TestRevoke:
    async def test_revoking_records_when_and_why(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(user)
        await given(user, session)

        async with uow_factory() as uow:
            assert await uow.login_sessions.revoke(session.id, LATER, "logout")
            await uow.commit()

        async with uow_factory() as uow:
            stored = await uow.login_sessions.get(session.id)
        assert stored == replace(session, revoked_at=LATER, revoke_reason="logout")

    async def test_second_revocation_fails_and_keeps_the_first_reason(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        session = a_session(user, revoked_at=NOW, revoke_reason="logout")
        await given(user, session)

        async with uow_factory() as uow:
            assert not await uow.login_sessions.revoke(session.id, LATER, "reuse")
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.login_sessions.get(session.id) == session

    async def test_unknown_session_cannot_be_revoked(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            assert not await uow.login_sessions.revoke(new_id(), LATER, "logout")


class TestRevokeAllForUser:
    async def test_revokes_every_unrevoked_session_but_the_kept_one(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, someone_else = a_user(), a_user()
        kept, first, second = a_session(user), a_session(user), a_session(user)
        already = a_session(user, revoked_at=NOW, revoke_reason="logout")
        foreign = a_session(someone_else)
        await given(user, someone_else, kept, first, second, already, foreign)

        async with uow_factory() as uow:
            revoked = await uow.login_sessions.revoke_all_for_user(
                user.id, LATER, "password_changed", keep=kept.id
            )
            await uow.commit()

        assert revoked == 2
        async with uow_factory() as uow:
            for session in (first, second):
                assert await uow.login_sessions.get(session.id) == replace(
                    session, revoked_at=LATER, revoke_reason="password_changed"
                )
            for untouched in (kept, already, foreign):
                assert await uow.login_sessions.get(untouched.id) == untouched

    async def test_without_keep_revokes_them_all(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user, a_session(user), a_session(user))

        async with uow_factory() as uow:
            revoked = await uow.login_sessions.revoke_all_for_user(
                user.id, LATER, "account_disabled"
            )
            assert revoked == 2
            assert await uow.login_sessions.list_for_user(user.id, active_at=NOW) == []
