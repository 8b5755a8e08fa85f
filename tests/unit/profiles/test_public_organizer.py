"""An organizer's public page: the profile and their upcoming public events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.events.model import Visibility
from platform_core.profiles.service import PUBLIC_EVENTS_LIMIT
from platform_core.shared.errors import NotFound
from platform_core.shared.ids import new_id

from .conftest import World


class TestPublicPage:
    async def test_shows_the_profile_and_only_published_public_upcoming_events(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        platform = world.core.platform
        await platform.profiles.update_organizer_profile(ada, {"bio": "Engines."})
        later = await world.published(ada, title="Later")
        sooner = await world.published(
            ada,
            title="Sooner",
            starts_at=world.adapters.clock.now() + timedelta(days=1),
            ends_at=world.adapters.clock.now() + timedelta(days=1, hours=1),
        )
        await world.event(ada, title="Draft")
        await world.published(ada, title="Unlisted", visibility=Visibility.UNLISTED)
        ended = await world.published(
            ada,
            title="Soon over",
            starts_at=world.adapters.clock.now() + timedelta(hours=1),
            ends_at=world.adapters.clock.now() + timedelta(hours=2),
        )
        world.adapters.clock.advance(timedelta(hours=3))

        page = await platform.profiles.public_organizer(str(ada.user_id))

        assert page.profile.bio == "Engines."
        assert [e.id for e in page.events] == [sooner.id, later.id]
        assert page.total_events == 2
        assert ended.id not in {e.id for e in page.events}

    async def test_lists_at_most_fifty_events_with_the_full_count(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        for _ in range(PUBLIC_EVENTS_LIMIT + 1):
            await world.published(ada)

        page = await world.core.platform.profiles.public_organizer(str(ada.user_id))

        assert len(page.events) == PUBLIC_EVENTS_LIMIT
        assert page.total_events == PUBLIC_EVENTS_LIMIT + 1

    async def test_is_found_by_slug_too(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        await world.core.platform.profiles.organizer_profile(ada)

        page = await world.core.platform.profiles.public_organizer("Ada-Lovelace")

        assert page.profile.user_id == ada.user_id

    async def test_the_first_public_view_creates_the_default_profile(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")

        page = await world.core.platform.profiles.public_organizer(str(ada.user_id))

        own = await world.core.platform.profiles.organizer_profile(ada)
        assert page.profile == own

    @pytest.mark.parametrize("identifier", [str(new_id()), "no-such-organizer"])
    async def test_an_unknown_organizer_is_not_found(
        self, world: World, identifier: str
    ) -> None:
        with pytest.raises(NotFound):
            await world.core.platform.profiles.public_organizer(identifier)

    async def test_a_person_without_an_organizer_plan_is_not_found(
        self, world: World
    ) -> None:
        bob = await world.person("bob@example.org")

        with pytest.raises(NotFound):
            await world.core.platform.profiles.public_organizer(str(bob.user_id))
