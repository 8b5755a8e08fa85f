from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.identity.errors import InvalidToken, RefreshTokenReused
from platform_core.identity.model import TokenPair
from tests.support import CLIENT, Core


class TestRefresh:
    async def test_refresh_rotates_the_refresh_token(self, core: Core) -> None:
        first = await core.verified_user()

        second = await core.platform.identity.refresh(
            refresh_token=first.refresh, client=CLIENT
        )

        assert second.refresh != first.refresh
        assert await core.principal(second)

    async def test_reusing_a_rotated_refresh_token_ends_the_whole_session(
        self, core: Core
    ) -> None:
        first = await core.verified_user()
        second = await core.platform.identity.refresh(
            refresh_token=first.refresh, client=CLIENT
        )

        with pytest.raises(RefreshTokenReused):
            await core.platform.identity.refresh(
                refresh_token=first.refresh, client=CLIENT
            )

        with pytest.raises(InvalidToken):
            await core.platform.identity.refresh(
                refresh_token=second.refresh, client=CLIENT
            )
        with pytest.raises(InvalidToken):
            await core.principal(second)
        actions = [r.action for r in core.adapters.store.tables.audit]
        assert "identity.session.reuse_detected" in actions

    async def test_access_token_is_not_a_refresh_token(self, core: Core) -> None:
        pair = await core.verified_user()
        with pytest.raises(InvalidToken):
            await core.platform.identity.refresh(
                refresh_token=pair.access, client=CLIENT
            )

    async def test_refresh_token_is_not_an_access_token(self, core: Core) -> None:
        pair = await core.verified_user()
        with pytest.raises(InvalidToken):
            await core.principal(TokenPair(access=pair.refresh, refresh=pair.refresh))

    async def test_access_token_expires_after_15_minutes(self, core: Core) -> None:
        pair = await core.verified_user()
        core.adapters.clock.advance(timedelta(minutes=14, seconds=59))
        assert await core.principal(pair)

        core.adapters.clock.advance(timedelta(seconds=1))
        with pytest.raises(InvalidToken):
            await core.principal(pair)
