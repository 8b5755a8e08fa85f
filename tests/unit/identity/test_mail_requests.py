"""Signup and reset mails are limited per recipient and per client address."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from platform_core.shared.errors import Throttled, ValidationFailed
from tests.support import CLIENT, PASSWORD, Core

PER_RECIPIENT = 5


async def reset(core: Core, email: str, address: str | None = None) -> None:
    client = replace(CLIENT, address=address) if address else CLIENT
    await core.platform.identity.request_password_reset(email=email, client=client)


class TestMailRequests:
    async def test_mails_to_one_address_stop_at_the_limit(self, core: Core) -> None:
        await core.verified_user()
        for _ in range(PER_RECIPIENT - 1):
            await reset(core, "ada@example.org")

        with pytest.raises(Throttled) as refused:
            await reset(core, "ADA@example.org")

        assert 0 < refused.value.retry_after <= 3600
        texts = await core.delivered_mail_texts()
        assert len([t for t in texts if "/reset-password" in t]) == PER_RECIPIENT - 1

    async def test_an_unknown_address_is_counted_the_same(self, core: Core) -> None:
        for _ in range(PER_RECIPIENT):
            await reset(core, "nobody@example.org")

        with pytest.raises(Throttled):
            await reset(core, "nobody@example.org")

    async def test_repeated_signups_stop_at_the_limit_and_send_nothing_more(
        self, core: Core
    ) -> None:
        for _ in range(PER_RECIPIENT):
            await core.sign_up("ada@example.org", PASSWORD)
        sent = len(await core.delivered_mail_texts())

        with pytest.raises(Throttled):
            await core.sign_up("ada@example.org", PASSWORD)

        assert sent == PER_RECIPIENT
        assert len(await core.delivered_mail_texts()) == sent

    async def test_one_client_is_held_back_across_recipients(self, core: Core) -> None:
        for n in range(60):
            await reset(core, f"person{n}@example.org", "203.0.113.7")

        with pytest.raises(Throttled):
            await reset(core, "fresh@example.org", "203.0.113.7")
        await reset(core, "fresh@example.org", "198.51.100.1")

    async def test_the_limit_lifts_after_the_window(self, core: Core) -> None:
        for _ in range(PER_RECIPIENT):
            await reset(core, "ada@example.org")

        core.adapters.clock.advance(timedelta(hours=1, seconds=1))

        await reset(core, "ada@example.org")

    async def test_an_invalid_signup_uses_no_request(self, core: Core) -> None:
        for _ in range(PER_RECIPIENT + 1):
            with pytest.raises(ValidationFailed):
                await core.sign_up("ada@example.org", "short")

        await core.sign_up("ada@example.org", PASSWORD)
