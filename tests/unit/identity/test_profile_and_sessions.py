from __future__ import annotations

import uuid

import pytest

from platform_core.identity.errors import InvalidToken
from platform_core.identity.service import ProfileChanges
from platform_core.shared.errors import NotFound, ValidationFailed
from tests.support import CLIENT, PASSWORD, Core


class TestProfile:
    async def test_full_name_is_split_into_first_and_last(self, core: Core) -> None:
        principal = await core.principal(await core.verified_user())

        user = await core.platform.identity.update_profile(
            principal, ProfileChanges(full_name="  Grace  Brewster Hopper ")
        )

        assert (user.first_name, user.last_name) == ("Grace", "Brewster Hopper")
        assert user.full_name == "Grace Brewster Hopper"

    async def test_one_name_can_change_alone(self, core: Core) -> None:
        principal = await core.principal(await core.verified_user())

        user = await core.platform.identity.update_profile(
            principal, ProfileChanges(last_name="Byron")
        )

        assert (user.first_name, user.last_name) == ("Ada", "Byron")

    async def test_first_name_cannot_be_emptied(self, core: Core) -> None:
        principal = await core.principal(await core.verified_user())
        with pytest.raises(ValidationFailed):
            await core.platform.identity.update_profile(
                principal, ProfileChanges(first_name="  ")
            )


class TestSessions:
    async def test_sessions_are_listed_with_the_current_one_marked(
        self, core: Core
    ) -> None:
        first = await core.verified_user()
        await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )
        principal = await core.principal(first)

        views = await core.platform.identity.list_sessions(principal)

        assert len(views) == 2
        assert [v.session.id for v in views if v.is_current] == [principal.session_id]

    async def test_revoked_session_tokens_stop_working_at_once(
        self, core: Core
    ) -> None:
        first = await core.verified_user()
        second = await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )
        me = await core.principal(first)
        other = await core.principal(second)

        await core.platform.identity.revoke_session(me, other.session_id, client=CLIENT)

        with pytest.raises(InvalidToken):
            await core.principal(second)
        with pytest.raises(InvalidToken):
            await core.platform.identity.refresh(
                refresh_token=second.refresh, client=CLIENT
            )
        assert await core.principal(first)

    async def test_another_users_session_is_not_found(self, core: Core) -> None:
        ada = await core.principal(await core.verified_user("ada@example.org"))
        bob = await core.principal(await core.verified_user("bob@example.org"))

        with pytest.raises(NotFound):
            await core.platform.identity.revoke_session(
                ada, bob.session_id, client=CLIENT
            )
        with pytest.raises(NotFound):
            await core.platform.identity.revoke_session(
                ada, uuid.uuid4(), client=CLIENT
            )
        assert await core.platform.identity.list_sessions(bob)

    async def test_logout_all_ends_every_session(self, core: Core) -> None:
        first = await core.verified_user()
        second = await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )

        revoked = await core.platform.identity.log_out_everywhere(
            await core.principal(first), client=CLIENT
        )

        assert revoked == 2
        for pair in (first, second):
            with pytest.raises(InvalidToken):
                await core.principal(pair)


class TestCreateAdmin:
    async def test_admin_is_verified_staff_and_a_second_run_changes_nothing(
        self, core: Core
    ) -> None:
        user, created = await core.platform.identity.create_admin(
            email="Root@Example.org", password=PASSWORD
        )
        again, created_again = await core.platform.identity.create_admin(
            email="root@example.org", password="a different passphrase"
        )

        assert created
        assert not created_again
        assert user.is_staff
        assert user.is_verified
        assert again.id == user.id
        assert await core.platform.identity.log_in(
            email="root@example.org", password=PASSWORD, client=CLIENT
        )
        actions = [r.action for r in core.adapters.store.tables.audit]
        assert actions.count("identity.admin.created") == 1
