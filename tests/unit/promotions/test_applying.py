"""Applying a code at registration and in a price preview, and giving uses back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from platform_core.events.model import Event
from platform_core.promotions.model import DiscountType, Quote, Refusal
from platform_core.promotions.service import AppliedCode, give_back_in
from platform_core.shared.errors import NotFound, ValidationFailed

from .conftest import World


async def apply(world: World, event: Event, code: str, email: str) -> AppliedCode:
    """Apply in one committed unit of work, as a registration would."""
    async with world.adapters.ports().uow_factory() as uow:
        applied = await world.platform.promotions.apply_in(uow, event, code, email)
        await uow.commit()
    return applied


async def refusal_of(world: World, event: Event, code: str) -> str:
    with pytest.raises(ValidationFailed) as raised:
        await apply(world, event, code, "grace@example.org")
    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("promo_code", raised.value.code)
    ]
    return raised.value.code


class TestApplying:
    async def test_a_code_takes_its_discount_and_counts_one_use(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1999)
        code = await world.code(actor, amount=Decimal(15))

        applied = await apply(world, event, " spring25 ", "grace@example.org")

        assert applied.code_id == code.id
        assert applied.quote == Quote(list_price=1999, discount=300, currency="EUR")
        assert applied.quote.final_price == 1699
        assert await world.times_used(actor, code) == 1

    async def test_a_hundred_percent_code_makes_the_event_free(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=4999)
        await world.code(actor, amount=Decimal(100))

        applied = await apply(world, event, "SPRING25", "grace@example.org")

        assert applied.quote.final_price == 0

    async def test_a_fixed_amount_above_the_price_makes_it_free(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1000)
        await world.code(actor, discount_type=DiscountType.FIXED, amount=Decimal(5000))

        applied = await apply(world, event, "SPRING25", "grace@example.org")

        assert (applied.quote.discount, applied.quote.final_price) == (1000, 0)

    async def test_a_free_event_with_a_code_gets_no_discount_and_uses_nothing(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=0, currency=None)
        code = await world.code(actor, max_uses=1)

        applied = await apply(world, event, "SPRING25", "grace@example.org")
        again = await apply(world, event, "SPRING25", "grace@example.org")

        assert applied.quote == Quote(list_price=0, discount=0, currency=None)
        assert applied.code_id is None
        assert again.code_id is None
        assert await world.times_used(actor, code) == 0

    async def test_a_free_event_still_refuses_a_code_as_the_preview_does(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=0, currency=None)
        code = await world.code(actor)
        await world.platform.promotions.deactivate_promo_code(actor, code.id)

        assert await refusal_of(world, event, "SPRING25") == Refusal.INACTIVE
        assert await refusal_of(world, event, "NOPE") == Refusal.UNKNOWN


class TestRefusals:
    async def test_an_unknown_code(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)

        assert await refusal_of(world, event, "NOPE") == Refusal.UNKNOWN

    async def test_another_organizers_code_is_unknown(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        grace = await world.organizer("grace@example.org")
        event = await world.published(ada)
        await world.code(grace)

        assert await refusal_of(world, event, "SPRING25") == Refusal.UNKNOWN

    async def test_a_deactivated_code(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        code = await world.code(actor)
        await world.platform.promotions.deactivate_promo_code(actor, code.id)

        assert await refusal_of(world, event, "SPRING25") == Refusal.INACTIVE

    async def test_a_code_for_other_events(self, world: World) -> None:
        actor = await world.organizer()
        event, other = await world.published(actor), await world.published(actor)
        await world.code(actor, events=(other.id,))

        assert await refusal_of(world, event, "SPRING25") == Refusal.NOT_FOR_EVENT

    async def test_before_and_after_the_validity_window(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        now = world.adapters.clock.now()
        await world.code(
            actor,
            valid_from=now + timedelta(hours=1),
            valid_until=now + timedelta(hours=2),
        )

        assert await refusal_of(world, event, "SPRING25") == Refusal.NOT_YET_VALID
        world.adapters.clock.advance(timedelta(hours=1))
        await apply(world, event, "SPRING25", "grace@example.org")
        world.adapters.clock.advance(timedelta(hours=1, microseconds=1))
        assert await refusal_of(world, event, "SPRING25") == Refusal.EXPIRED

    async def test_a_used_up_code(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        code = await world.code(actor, max_uses=1)
        await apply(world, event, "SPRING25", "first@example.org")

        assert await refusal_of(world, event, "SPRING25") == Refusal.USED_UP
        assert await world.times_used(actor, code) == 1

    async def test_a_code_used_up_by_this_email(self, world: World) -> None:
        actor = await world.organizer()
        event, other = await world.published(actor), await world.published(actor)
        code = await world.code(actor, max_uses_per_email=1)
        await world.registered(other, "Grace@Example.org", code)
        await apply(world, event, "SPRING25", "someone@example.org")

        assert await refusal_of(world, event, "SPRING25") == Refusal.USED_UP
        assert await world.times_used(actor, code) == 1


class TestDatesAcrossATimeZone:
    async def test_a_date_alone_covers_that_whole_day_in_the_organizers_zone(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        await world.platform.profiles.update_organizer_profile(
            actor, {"timezone": "America/New_York"}
        )
        event = await world.published(actor)
        await world.code(
            actor, valid_from=date(2026, 1, 6), valid_until=date(2026, 1, 6)
        )
        clock = world.adapters.clock

        # 6 January in New York (UTC-5) is 05:00 UTC to 04:59:59.999999 on the 7th.
        clock.advance(datetime(2026, 1, 6, 4, 59, tzinfo=UTC) - clock.now())
        assert await refusal_of(world, event, "SPRING25") == Refusal.NOT_YET_VALID
        clock.advance(timedelta(minutes=1))
        await apply(world, event, "SPRING25", "a@example.org")
        clock.advance(timedelta(hours=23, minutes=59, seconds=59, microseconds=999999))
        await apply(world, event, "SPRING25", "b@example.org")
        clock.advance(timedelta(microseconds=1))
        assert await refusal_of(world, event, "SPRING25") == Refusal.EXPIRED


class TestPreview:
    async def test_a_preview_quotes_without_using_the_code(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1000)
        code = await world.code(actor, amount=Decimal("12.5"), max_uses=1)

        quote = await world.platform.promotions.preview_price(event.slug, "spring25")
        again = await world.platform.promotions.preview_price(str(event.id), "SPRING25")

        assert quote == again == Quote(list_price=1000, discount=125, currency="EUR")
        assert await world.times_used(actor, code) == 0

    async def test_without_a_code_the_preview_is_the_list_price(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor, price=1000)

        assert await world.platform.promotions.preview_price(event.slug, "  ") == Quote(
            list_price=1000, discount=0, currency="EUR"
        )

    async def test_a_preview_refuses_as_registration_does(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        await world.code(actor, max_uses=1)
        await apply(world, event, "SPRING25", "first@example.org")

        with pytest.raises(ValidationFailed) as raised:
            await world.platform.promotions.preview_price(event.slug, "SPRING25")

        assert raised.value.code == Refusal.USED_UP

    async def test_a_draft_event_has_no_preview(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        await world.platform.events.set_published(actor, event.id, False)

        with pytest.raises(NotFound):
            await world.platform.promotions.preview_price(str(event.id), None)


class TestGivingBack:
    async def test_a_use_given_back_can_be_used_again_but_never_below_zero(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        code = await world.code(actor, max_uses=1)
        applied = await apply(world, event, "SPRING25", "first@example.org")

        async with world.adapters.ports().uow_factory() as uow:
            returned = [await give_back_in(uow, applied.code_id) for _ in range(2)]
            await uow.commit()

        assert returned == [True, False]
        assert await world.times_used(actor, code) == 0
        await apply(world, event, "SPRING25", "second@example.org")
        assert await world.times_used(actor, code) == 1
