from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.identity.errors import (
    InvalidCredentials,
    InvalidToken,
    OneTimeTokenExpired,
    OneTimeTokenUsed,
)
from platform_core.shared.errors import Throttled, ValidationFailed
from tests.support import CLIENT, PASSWORD, Core, token_from_link

NEW_PASSWORD = "violet meadow compass 77"


class TestPasswordReset:
    async def test_unknown_email_gets_no_mail(self, core: Core) -> None:
        await core.platform.identity.request_password_reset(
            email="nobody@example.org", client=CLIENT
        )
        assert await core.delivered_mail_texts() == []

    async def test_reset_sets_the_password_and_ends_every_session(
        self, core: Core
    ) -> None:
        pair = await core.verified_user()
        await core.platform.identity.request_password_reset(
            email="ada@example.org", client=CLIENT
        )
        token = await core.last_link_token("reset-password")

        await core.platform.identity.confirm_password_reset(
            token=token, new_password=NEW_PASSWORD, client=CLIENT
        )

        with pytest.raises(InvalidToken):
            await core.principal(pair)
        with pytest.raises(InvalidCredentials):
            await core.platform.identity.log_in(
                email="ada@example.org", password=PASSWORD, client=CLIENT
            )
        assert await core.platform.identity.log_in(
            email="ada@example.org", password=NEW_PASSWORD, client=CLIENT
        )
        with pytest.raises(OneTimeTokenUsed):
            await core.platform.identity.confirm_password_reset(
                token=token, new_password="another fine passphrase", client=CLIENT
            )

    async def test_reset_link_expires_after_one_hour(self, core: Core) -> None:
        await core.verified_user()
        await core.platform.identity.request_password_reset(
            email="ada@example.org", client=CLIENT
        )
        token = await core.last_link_token("reset-password")
        core.adapters.clock.advance(timedelta(hours=1))

        with pytest.raises(OneTimeTokenExpired):
            await core.platform.identity.confirm_password_reset(
                token=token, new_password=NEW_PASSWORD, client=CLIENT
            )

    async def test_a_new_reset_link_voids_the_older_one(self, core: Core) -> None:
        await core.verified_user()
        for _ in range(2):
            core.adapters.clock.advance(timedelta(seconds=1))
            await core.platform.identity.request_password_reset(
                email="ada@example.org", client=CLIENT
            )
        texts = await core.delivered_mail_texts()
        older = token_from_link(texts[-2], "reset-password")
        newer = token_from_link(texts[-1], "reset-password")

        with pytest.raises(OneTimeTokenUsed):
            await core.platform.identity.confirm_password_reset(
                token=older, new_password=NEW_PASSWORD, client=CLIENT
            )
        await core.platform.identity.confirm_password_reset(
            token=newer, new_password=NEW_PASSWORD, client=CLIENT
        )

    async def test_weak_new_password_leaves_the_link_usable(self, core: Core) -> None:
        await core.verified_user()
        await core.platform.identity.request_password_reset(
            email="ada@example.org", client=CLIENT
        )
        token = await core.last_link_token("reset-password")

        with pytest.raises(ValidationFailed):
            await core.platform.identity.confirm_password_reset(
                token=token, new_password="short", client=CLIENT
            )
        await core.platform.identity.confirm_password_reset(
            token=token, new_password=NEW_PASSWORD, client=CLIENT
        )


class TestPasswordChange:
    async def test_guessing_the_current_password_is_throttled(self, core: Core) -> None:
        principal = await core.principal(await core.verified_user())
        for n in range(5):
            with pytest.raises(ValidationFailed):
                await core.platform.identity.change_password(
                    principal,
                    current_password=f"guess number {n}",
                    new_password=NEW_PASSWORD,
                    client=CLIENT,
                )

        with pytest.raises(Throttled):
            await core.platform.identity.change_password(
                principal,
                current_password=PASSWORD,
                new_password=NEW_PASSWORD,
                client=CLIENT,
            )

    async def test_change_keeps_this_session_and_ends_the_others(
        self, core: Core
    ) -> None:
        current = await core.verified_user()
        other = await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )
        principal = await core.principal(current)

        await core.platform.identity.change_password(
            principal,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
            client=CLIENT,
        )

        assert await core.principal(current)
        with pytest.raises(InvalidToken):
            await core.principal(other)
        actions = [r.action for r in core.adapters.store.tables.audit]
        assert "identity.password.changed" in actions

    async def test_wrong_current_password_changes_nothing(self, core: Core) -> None:
        pair = await core.verified_user()
        principal = await core.principal(pair)

        with pytest.raises(ValidationFailed) as refused:
            await core.platform.identity.change_password(
                principal,
                current_password="not it at all",
                new_password=NEW_PASSWORD,
                client=CLIENT,
            )

        assert refused.value.errors[0].field == "current_password"
        actions = [r.action for r in core.adapters.store.tables.audit]
        assert "identity.password.change_refused" in actions
        assert await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )
