from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.identity.errors import (
    OneTimeTokenExpired,
    OneTimeTokenUnknown,
    OneTimeTokenUsed,
)
from tests.support import CLIENT, Core


class TestVerifyEmail:
    async def test_valid_link_verifies_and_signs_in(self, core: Core) -> None:
        await core.sign_up()
        token = await core.last_link_token("verify-email")

        pair = await core.platform.identity.verify_email(token=token, client=CLIENT)

        principal = await core.principal(pair)
        profile = await core.platform.identity.get_profile(principal)
        assert profile.is_verified
        assert profile.verified_at == core.adapters.clock.now()
        actions = [r.action for r in core.adapters.store.tables.audit]
        assert "identity.email.verified" in actions

    async def test_link_works_once(self, core: Core) -> None:
        await core.sign_up()
        token = await core.last_link_token("verify-email")
        await core.platform.identity.verify_email(token=token, client=CLIENT)

        with pytest.raises(OneTimeTokenUsed):
            await core.platform.identity.verify_email(token=token, client=CLIENT)

    async def test_link_expires_after_24_hours(self, core: Core) -> None:
        await core.sign_up()
        token = await core.last_link_token("verify-email")
        core.adapters.clock.advance(timedelta(hours=24))

        with pytest.raises(OneTimeTokenExpired):
            await core.platform.identity.verify_email(token=token, client=CLIENT)

    async def test_link_just_before_expiry_still_works(self, core: Core) -> None:
        await core.sign_up()
        token = await core.last_link_token("verify-email")
        core.adapters.clock.advance(timedelta(hours=23, minutes=59))

        assert await core.platform.identity.verify_email(token=token, client=CLIENT)

    async def test_unknown_token_is_refused(self, core: Core) -> None:
        with pytest.raises(OneTimeTokenUnknown):
            await core.platform.identity.verify_email(token="made-up", client=CLIENT)

    async def test_a_newer_link_replaces_the_older_one(self, core: Core) -> None:
        await core.sign_up()
        older = await core.last_link_token("verify-email")
        await core.sign_up()

        with pytest.raises(OneTimeTokenUsed):
            await core.platform.identity.verify_email(token=older, client=CLIENT)
