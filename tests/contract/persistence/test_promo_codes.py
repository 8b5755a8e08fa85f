"""The promo code repository and its atomic uses, on every backend."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import replace
from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.events.model import Event
from platform_core.identity.model import User
from platform_core.profiles.model import OrganizerProfile
from platform_core.promotions.model import (
    DiscountType,
    PromoCode,
    PromoCodeFilter,
    Refusal,
)
from platform_core.promotions.ports import DuplicatePromoCode
from platform_core.registrations.model import Registration, RegistrationStatus
from platform_core.shared.errors import ValidationFailed
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_user, an_event, in_parallel

PLUS_TWO = timezone(timedelta(hours=2))
ALL = PromoCodeFilter()


def a_code(organizer: User, **fields: Any) -> PromoCode:
    defaults: dict[str, Any] = {
        "organizer_id": organizer.id,
        "code": "SPRING25",
        "discount_type": DiscountType.PERCENT,
        "amount": Decimal("12.50"),
        "created_at": NOW,
    }
    return PromoCode(**(defaults | fields))


async def add(uow_factory: UnitOfWorkFactory, *codes: PromoCode) -> None:
    async with uow_factory() as uow:
        for code in codes:
            await uow.promo_codes.add(code)
        await uow.commit()


async def stored(uow_factory: UnitOfWorkFactory, code: PromoCode) -> PromoCode:
    async with uow_factory() as uow:
        found = await uow.promo_codes.get(code.id)
    assert found is not None
    return found


async def listed(
    uow_factory: UnitOfWorkFactory,
    organizer: User,
    criteria: PromoCodeFilter = ALL,
    *,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[str], int]:
    async with uow_factory() as uow:
        items, total = await uow.promo_codes.list_for_organizer(
            organizer.id, criteria, offset=offset, limit=limit
        )
    return [item.code for item in items], total


async def uses(
    uow_factory: UnitOfWorkFactory, code: PromoCode, times: int
) -> list[bool]:
    async with uow_factory() as uow:
        outcomes = [await uow.promo_codes.use(code.id) for _ in range(times)]
        await uow.commit()
    return outcomes


class TestStoring:
    async def test_every_field_survives_a_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        first, second = an_event(organizer), an_event(organizer)
        await given(organizer, first, second)
        code = a_code(
            organizer,
            code="Spring-25_x",
            discount_type=DiscountType.FIXED,
            amount=Decimal(1500),
            all_events=False,
            event_ids=tuple(sorted([first.id, second.id])),
            valid_from=NOW.astimezone(PLUS_TWO),
            valid_until=NOW + timedelta(days=3, microseconds=999999),
            max_uses=10,
            max_uses_per_email=2,
            is_active=False,
            updated_at=NOW + timedelta(seconds=1),
        )

        await add(uow_factory, code)

        assert await stored(uow_factory, code) == code

    async def test_a_code_is_found_by_its_key_for_its_organizer_only(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        await given(organizer, other)
        code = a_code(organizer, code="Spring25")
        await add(uow_factory, code)

        async with uow_factory() as uow:
            mine = await uow.promo_codes.get_by_key(organizer.id, "spring25")
            theirs = await uow.promo_codes.get_by_key(other.id, "spring25")

        assert mine == code
        assert theirs is None

    async def test_the_same_key_twice_for_one_organizer_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        await add(uow_factory, a_code(organizer, code="SPRING25"))

        async with uow_factory() as uow:
            with pytest.raises(DuplicatePromoCode):
                await uow.promo_codes.add(a_code(organizer, code="spring25"))
            survivor = a_code(organizer, code="summer")
            await uow.promo_codes.add(survivor)
            await uow.commit()

        assert (await stored(uow_factory, survivor)).code == "summer"

    async def test_another_organizer_may_have_the_same_code(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        await given(organizer, other)

        await add(uow_factory, a_code(organizer), a_code(other))

        assert (await listed(uow_factory, other))[1] == 1

    async def test_update_writes_every_field_but_the_uses_and_replaces_events(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        first, second = an_event(organizer), an_event(organizer)
        await given(organizer, first, second)
        code = a_code(organizer, all_events=False, event_ids=(first.id,), max_uses=5)
        await add(uow_factory, code)
        await uses(uow_factory, code, 2)

        changed = replace(
            code,
            code="AUTUMN",
            amount=Decimal(100),
            event_ids=(second.id,),
            max_uses=None,
            times_used=0,
            updated_at=NOW + timedelta(hours=1),
        )
        async with uow_factory() as uow:
            await uow.promo_codes.update(changed)
            await uow.commit()

        assert await stored(uow_factory, code) == replace(changed, times_used=2)

    async def test_update_to_a_key_the_organizer_has_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        spring, summer = (
            a_code(organizer, code="spring"),
            a_code(organizer, code="summer"),
        )
        await add(uow_factory, spring, summer)

        async with uow_factory() as uow:
            with pytest.raises(DuplicatePromoCode):
                await uow.promo_codes.update(replace(summer, code="SPRING"))

    async def test_a_deleted_event_leaves_its_codes_without_widening_them(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)
        code = a_code(organizer, all_events=False, event_ids=(event.id,))
        await add(uow_factory, code)

        async with uow_factory() as uow:
            await uow.events.delete(event.id)
            await uow.commit()

        found = await stored(uow_factory, code)
        assert found.event_ids == ()
        assert found.applies_to(event.id) is False
        assert found.applies_to(an_event(organizer).id) is False


class TestListing:
    async def test_codes_come_newest_first_with_their_count(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        await given(organizer, other)
        await add(
            uow_factory,
            *(
                a_code(organizer, code=f"code{n}", created_at=NOW + timedelta(hours=n))
                for n in range(5)
            ),
            a_code(other, code="theirs"),
        )

        assert await listed(uow_factory, organizer, offset=1, limit=2) == (
            ["code3", "code2"],
            5,
        )

    async def test_filters_keep_active_codes_and_those_for_an_event(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event, elsewhere = an_event(organizer), an_event(organizer)
        await given(organizer, event, elsewhere)
        await add(
            uow_factory,
            a_code(organizer, code="everywhere", created_at=NOW),
            a_code(
                organizer,
                code="here",
                all_events=False,
                event_ids=(event.id,),
                created_at=NOW + timedelta(hours=1),
            ),
            a_code(
                organizer,
                code="there",
                all_events=False,
                event_ids=(elsewhere.id,),
                is_active=False,
                created_at=NOW + timedelta(hours=2),
            ),
        )

        assert await listed(
            uow_factory, organizer, PromoCodeFilter(event_id=event.id)
        ) == (
            ["here", "everywhere"],
            2,
        )
        assert await listed(
            uow_factory, organizer, PromoCodeFilter(is_active=False)
        ) == (
            ["there"],
            1,
        )
        assert await listed(
            uow_factory,
            organizer,
            PromoCodeFilter(is_active=True, event_id=elsewhere.id),
        ) == (["everywhere"], 1)


class TestUses:
    async def test_uses_are_counted_up_to_the_maximum(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        code = a_code(organizer, max_uses=2)
        await add(uow_factory, code)

        assert await uses(uow_factory, code, 3) == [True, True, False]
        assert (await stored(uow_factory, code)).times_used == 2

    async def test_an_inactive_code_counts_no_use(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        code = a_code(organizer, is_active=False)
        await add(uow_factory, code)

        assert await uses(uow_factory, code, 1) == [False]
        assert (await stored(uow_factory, code)).times_used == 0

    async def test_giving_back_never_goes_below_zero(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        code = a_code(organizer)
        await add(uow_factory, code)
        await uses(uow_factory, code, 1)

        async with uow_factory() as uow:
            outcomes = [await uow.promo_codes.give_back(code.id) for _ in range(3)]
            await uow.commit()

        assert outcomes == [True, False, False]
        assert (await stored(uow_factory, code)).times_used == 0

    async def test_concurrent_give_backs_stop_at_zero(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        code = a_code(organizer)
        await add(uow_factory, code)
        await uses(uow_factory, code, 5)

        async def one(uow: UnitOfWork) -> bool:
            return await uow.promo_codes.give_back(code.id)

        outcomes = await in_parallel(uow_factory, 20, one)

        assert outcomes.count(True) == 5
        assert (await stored(uow_factory, code)).times_used == 0


async def _platform(uow_factory: UnitOfWorkFactory) -> Platform:
    memory = MemoryAdapters()
    ports = dataclasses.replace(memory.ports(), uow_factory=uow_factory)
    return Platform(ports, IdentityPolicy(frontend_url="https://app.test"))


class TestApplyingConcurrently:
    async def test_of_twenty_registrants_for_the_last_use_exactly_one_gets_it(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        platform = await _platform(uow_factory)
        organizer = a_user()
        event = an_event(organizer, price=2000, currency="EUR")
        await given(organizer, event)
        code = a_code(organizer, max_uses=3, amount=Decimal(25))
        await add(uow_factory, code)
        await uses(uow_factory, code, 2)

        async def one(n: int) -> int | str:
            async with uow_factory() as uow:
                try:
                    applied = await platform.promotions.apply_in(
                        uow, event, "spring25", f"person{n}@example.org"
                    )
                except ValidationFailed as refusal:
                    return refusal.code
                await uow.commit()
            return applied.quote.final_price

        outcomes = await asyncio.gather(*(one(n) for n in range(20)))

        assert outcomes.count(1500) == 1
        assert outcomes.count(Refusal.USED_UP.value) == 19
        assert (await stored(uow_factory, code)).times_used == 3

    async def test_one_email_registering_for_many_events_at_once_gets_one_use(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        platform = await _platform(uow_factory)
        organizer = a_user()
        events = [an_event(organizer, price=2000, currency="EUR") for _ in range(10)]
        await given(organizer, *events)
        code = a_code(organizer, max_uses_per_email=1)
        await add(uow_factory, code)

        async def one(event: Event) -> bool:
            async with uow_factory() as uow:
                try:
                    applied = await platform.promotions.apply_in(
                        uow, event, "SPRING25", "grace@example.org"
                    )
                except ValidationFailed:
                    return False
                await uow.registrations.add(
                    Registration(
                        event_id=event.id,
                        email="grace@example.org",
                        first_name="Grace",
                        last_name="Hopper",
                        status=RegistrationStatus.CONFIRMED,
                        created_at=NOW,
                        promo_code_id=applied.code_id,
                    )
                )
                await uow.commit()
            return True

        outcomes = await asyncio.gather(*(one(event) for event in events))

        assert outcomes.count(True) == 1
        assert (await stored(uow_factory, code)).times_used == 1

    async def test_a_refused_registration_leaves_the_use_uncounted(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        platform = await _platform(uow_factory)
        organizer = a_user()
        event = an_event(organizer, price=2000, currency="EUR")
        await given(organizer, event)
        code = a_code(organizer, max_uses=1)
        await add(uow_factory, code)

        async with uow_factory() as uow:
            await platform.promotions.apply_in(uow, event, "SPRING25", "a@example.org")
            await uow.rollback()

        assert (await stored(uow_factory, code)).times_used == 0


async def test_the_organizer_time_zone_is_stored(
    uow_factory: UnitOfWorkFactory, given: Given
) -> None:
    organizer = a_user()
    await given(organizer)
    profile = OrganizerProfile(
        user_id=organizer.id,
        organization_name="Lovelace Learning",
        slug="lovelace-learning",
        created_at=NOW,
        timezone="Pacific/Auckland",
    )

    async with uow_factory() as uow:
        await uow.organizer_profiles.add(profile)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.organizer_profiles.get(organizer.id)

    assert found is not None
    assert found.timezone == "Pacific/Auckland"
