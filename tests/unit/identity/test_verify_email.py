from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.identity.errors import (
    InvalidCredentials,
    OneTimeTokenExpired,
    OneTimeTokenUnknown,
    OneTimeTokenUsed,
)
from tests.support import CLIENT, Core, token_from_link


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

    async def test_a_stranger_signing_up_first_cannot_choose_the_owners_password(
        self, core: Core
    ) -> None:
        identity = core.platform.identity
        await identity.sign_up(
            email="victim@example.org",
            password="attacker chosen secret",
            full_name="Mallory",
            client=CLIENT,
        )
        await identity.sign_up(
            email="victim@example.org",
            password="the owners own phrase",
            full_name="Victor Owner",
            client=CLIENT,
        )
        texts = await core.delivered_mail_texts()
        owners_mail = next(t for t in texts if t.startswith("Hello Victor"))

        pair = await identity.verify_email(
            token=token_from_link(owners_mail, "verify-email"), client=CLIENT
        )

        profile = await identity.get_profile(await core.principal(pair))
        assert profile.full_name == "Victor Owner"
        with pytest.raises(InvalidCredentials):
            await identity.log_in(
                email="victim@example.org",
                password="attacker chosen secret",
                client=CLIENT,
            )
        assert await identity.log_in(
            email="victim@example.org", password="the owners own phrase", client=CLIENT
        )

    async def test_using_one_link_voids_the_others(self, core: Core) -> None:
        await core.sign_up()
        core.adapters.clock.advance(timedelta(seconds=1))
        await core.sign_up()
        texts = await core.delivered_mail_texts()
        first, second = (token_from_link(t, "verify-email") for t in texts)

        await core.platform.identity.verify_email(token=second, client=CLIENT)

        with pytest.raises(OneTimeTokenUsed):
            await core.platform.identity.verify_email(token=first, client=CLIENT)

    async def test_a_password_reset_voids_pending_verification_links(
        self, core: Core
    ) -> None:
        await core.sign_up()
        verification = await core.last_link_token("verify-email")
        await core.platform.identity.request_password_reset(
            email="ada@example.org", client=CLIENT
        )
        reset = await core.last_link_token("reset-password")
        await core.platform.identity.confirm_password_reset(
            token=reset, new_password="violet meadow compass 77", client=CLIENT
        )

        with pytest.raises(OneTimeTokenUsed):
            await core.platform.identity.verify_email(token=verification, client=CLIENT)
