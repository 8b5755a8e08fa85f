from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.memory import (
    MemoryAdapters,
    MemoryPasswordHasher,
    build_memory_platform,
)
from platform_core.identity.errors import EmailNotVerified, InvalidCredentials
from platform_core.identity.model import ClientInfo
from platform_core.shared.errors import Throttled
from tests.support import CLIENT, PASSWORD, Core


class TestLogIn:
    async def test_verified_user_gets_an_access_and_a_refresh_token(
        self, core: Core
    ) -> None:
        await core.verified_user()

        pair = await core.platform.identity.log_in(
            email=" ADA@example.org", password=PASSWORD, client=CLIENT
        )

        principal = await core.principal(pair)
        sessions = await core.platform.identity.list_sessions(principal)
        assert len(sessions) == 2
        assert core.adapters.store.tables.audit[-1].action == "identity.login.succeeded"

    async def test_unverified_user_is_refused(self, core: Core) -> None:
        await core.sign_up()

        with pytest.raises(EmailNotVerified):
            await core.platform.identity.log_in(
                email="ada@example.org", password=PASSWORD, client=CLIENT
            )

    async def test_wrong_password_and_unknown_email_are_indistinguishable(
        self, core: Core
    ) -> None:
        await core.verified_user()

        with pytest.raises(InvalidCredentials) as wrong_password:
            await core.platform.identity.log_in(
                email="ada@example.org", password="not the password", client=CLIENT
            )
        with pytest.raises(InvalidCredentials) as unknown_email:
            await core.platform.identity.log_in(
                email="nobody@example.org", password=PASSWORD, client=CLIENT
            )

        assert str(wrong_password.value) == str(unknown_email.value)
        assert wrong_password.value.code == unknown_email.value.code
        failures = [
            r
            for r in core.adapters.store.tables.audit
            if r.action == "identity.login.failed"
        ]
        assert len(failures) == 2

    async def test_an_address_no_account_can_have_is_just_a_wrong_login(
        self, core: Core
    ) -> None:
        for email in ("nul\x00@example.org", "ünï@example.org"):
            with pytest.raises(InvalidCredentials):
                await core.platform.identity.log_in(
                    email=email, password=PASSWORD, client=CLIENT
                )

    async def test_repeated_failures_on_one_account_are_throttled(
        self, core: Core
    ) -> None:
        await core.verified_user()
        for attempt in range(5):
            with pytest.raises(InvalidCredentials):
                await core.platform.identity.log_in(
                    email="ada@example.org",
                    password="wrong",
                    client=ClientInfo(address=f"198.51.100.{attempt}"),
                )

        with pytest.raises(Throttled) as throttled:
            await core.platform.identity.log_in(
                email="ada@example.org", password=PASSWORD, client=CLIENT
            )
        assert 0 < throttled.value.retry_after <= 15 * 60

        core.adapters.clock.advance(timedelta(minutes=15, seconds=1))
        assert await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )

    async def test_repeated_failures_from_one_address_are_throttled(
        self, core: Core
    ) -> None:
        await core.verified_user()
        for n in range(50):
            with pytest.raises(InvalidCredentials):
                await core.platform.identity.log_in(
                    email=f"guess{n}@example.org", password="wrong", client=CLIENT
                )

        with pytest.raises(Throttled):
            await core.platform.identity.log_in(
                email="ada@example.org", password=PASSWORD, client=CLIENT
            )
        assert await core.platform.identity.log_in(
            email="ada@example.org",
            password=PASSWORD,
            client=ClientInfo(address="192.0.2.1"),
        )

    async def test_a_concurrent_burst_of_guesses_is_held_to_the_limit(
        self, core: Core
    ) -> None:
        await core.verified_user()

        outcomes = await asyncio.gather(
            *(
                core.platform.identity.log_in(
                    email="ada@example.org", password=f"guess {n}", client=CLIENT
                )
                for n in range(30)
            ),
            return_exceptions=True,
        )

        refused = [o for o in outcomes if isinstance(o, InvalidCredentials)]
        throttled = [o for o in outcomes if isinstance(o, Throttled)]
        assert (len(refused), len(throttled)) == (5, 25)

    async def test_success_forgets_earlier_failures_of_the_account(
        self, core: Core
    ) -> None:
        await core.verified_user()
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                await core.platform.identity.log_in(
                    email="ada@example.org", password="wrong", client=ClientInfo()
                )
        await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=ClientInfo()
        )

        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                await core.platform.identity.log_in(
                    email="ada@example.org", password="wrong", client=ClientInfo()
                )
        assert await core.platform.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=ClientInfo()
        )

    async def test_hash_made_with_weaker_parameters_is_upgraded_at_login(
        self, core: Core
    ) -> None:
        await core.verified_user()
        [user] = core.adapters.store.tables.users.values()
        weak_hash = user.password_hash
        stronger = MemoryPasswordHasher(rounds=5000)
        upgraded, _ = build_memory_platform(
            adapters=MemoryAdapters(
                clock=core.adapters.clock, store=core.adapters.store, hasher=stronger
            )
        )

        await upgraded.identity.log_in(
            email="ada@example.org", password=PASSWORD, client=CLIENT
        )

        [user] = core.adapters.store.tables.users.values()
        assert user.password_hash != weak_hash
        assert not stronger.needs_rehash(user.password_hash)
        assert await stronger.verify(user.password_hash, PASSWORD)
