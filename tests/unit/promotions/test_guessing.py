"""Unknown promo codes are counted per client address, so codes cannot be guessed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.identity.model import ClientInfo
from platform_core.promotions.model import Quote, Refusal
from platform_core.registrations.service import RegistrationForm
from platform_core.shared.errors import Throttled, ValidationFailed

from .conftest import World

MISSES = 20
GUESSER = ClientInfo(address="203.0.113.9", user_agent="pytest")
NEIGHBOUR = ClientInfo(address="198.51.100.4", user_agent="pytest")


async def preview(
    world: World, slug: str, code: str, client: ClientInfo = GUESSER
) -> Quote:
    return await world.platform.promotions.preview_price(slug, code, client)


async def miss(world: World, slug: str, times: int) -> None:
    for n in range(times):
        with pytest.raises(ValidationFailed) as refused:
            await preview(world, slug, f"GUESS{n}")
        assert refused.value.code == Refusal.UNKNOWN


class TestGuessing:
    async def test_an_address_that_missed_too_often_is_held_back(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1000)
        await world.code(actor)
        await miss(world, event.slug, MISSES)

        with pytest.raises(Throttled) as held:
            await preview(world, event.slug, "SPRING25")

        assert 0 < held.value.retry_after <= 15 * 60
        quote = await preview(world, event.slug, "SPRING25", NEIGHBOUR)
        assert quote.discount == 250

    async def test_codes_that_exist_are_never_counted(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1000)
        await world.code(actor, max_uses=1)
        await world.code(actor, code="OLD", is_active=False)
        for _ in range(MISSES + 5):
            assert (await preview(world, event.slug, "spring25")).discount == 250
            with pytest.raises(ValidationFailed):
                await preview(world, event.slug, "OLD")

        await miss(world, event.slug, MISSES)

    async def test_registering_with_unknown_codes_counts_and_is_held_back(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=0)
        await world.code(actor)
        for n in range(MISSES):
            with pytest.raises(ValidationFailed):
                await world.platform.registrations.register(
                    None,
                    event.slug,
                    RegistrationForm(
                        email=f"p{n}@example.org",
                        first_name="Grace",
                        last_name="Hopper",
                        promo_code=f"GUESS{n}",
                    ),
                    GUESSER,
                )

        with pytest.raises(Throttled):
            await world.platform.registrations.register(
                None,
                event.slug,
                RegistrationForm(
                    email="real@example.org",
                    first_name="Grace",
                    last_name="Hopper",
                    promo_code="SPRING25",
                ),
                GUESSER,
            )
        without_code = await world.platform.registrations.register(
            None,
            event.slug,
            RegistrationForm(
                email="real@example.org", first_name="Grace", last_name="Hopper"
            ),
            GUESSER,
        )
        assert without_code.registration.email == "real@example.org"

    async def test_the_hold_lifts_after_the_window(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1000)
        await world.code(actor)
        await miss(world, event.slug, MISSES)

        world.adapters.clock.advance(timedelta(minutes=15, seconds=1))

        assert (await preview(world, event.slug, "SPRING25")).discount == 250
