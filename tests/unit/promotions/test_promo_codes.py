"""An organizer's promo codes: creating, reading, changing and deactivating them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from platform_core.promotions.model import DiscountType, PromoCodeFilter
from platform_core.shared.errors import NotFound, PermissionDenied, ValidationFailed
from platform_core.shared.pagination import PageRequest

from .conftest import World


def field_codes(raised: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.code for e in raised.value.errors}


class TestCreating:
    async def test_a_code_is_created_trimmed_for_all_events_by_default(
        self, world: World
    ) -> None:
        actor = await world.organizer()

        code = await world.code(actor, code="  Spring25 ")

        assert code.code == "Spring25"
        assert code.all_events is True
        assert code.event_ids == ()
        assert code.times_used == 0
        assert code.is_active is True

    async def test_a_second_code_differing_only_in_case_is_taken(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        await world.code(actor, code="Spring25")

        with pytest.raises(ValidationFailed) as raised:
            await world.code(actor, code="SPRING25")

        assert field_codes(raised) == {"code": "taken"}

    async def test_another_organizer_may_have_the_same_code(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        grace = await world.organizer("grace@example.org")
        await world.code(ada, code="SPRING25")

        theirs = await world.code(grace, code="spring25")

        assert theirs.organizer_id == grace.user_id

    async def test_events_must_be_the_organizers_own(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        grace = await world.organizer("grace@example.org")
        mine = await world.published(ada)
        theirs = await world.published(grace)

        code = await world.code(ada, events=(mine.id, mine.id))
        with pytest.raises(ValidationFailed) as raised:
            await world.code(ada, code="other", events=(mine.id, theirs.id))

        assert code.event_ids == (mine.id,)
        assert code.all_events is False
        assert field_codes(raised) == {"events": "unknown_event"}

    async def test_an_invalid_code_is_refused_naming_each_field(
        self, world: World
    ) -> None:
        actor = await world.organizer()

        with pytest.raises(ValidationFailed) as raised:
            await world.code(actor, code="no", amount=Decimal(101), max_uses=0)

        assert field_codes(raised) == {
            "code": "invalid_length",
            "amount": "out_of_range",
            "max_uses": "out_of_range",
        }

    async def test_only_organizers_create_codes(self, world: World) -> None:
        attendee = await world.person("ada@example.org")

        with pytest.raises(PermissionDenied) as raised:
            await world.code(attendee)

        assert raised.value.code == "capability_missing"

    async def test_creating_is_audited(self, world: World) -> None:
        actor = await world.organizer()

        code = await world.code(actor)

        async with world.adapters.ports().uow_factory() as uow:
            records = await uow.audit.list(action="promotions.promo_code.created")
        assert [(r.actor_id, r.target_id) for r in records] == [
            (actor.user_id, str(code.id))
        ]


class TestDatesAlone:
    async def test_a_date_is_the_whole_day_in_the_organizers_time_zone(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        await world.platform.profiles.update_organizer_profile(
            actor, {"timezone": "Pacific/Auckland"}
        )

        code = await world.code(
            actor, valid_from=date(2026, 1, 10), valid_until=date(2026, 1, 12)
        )

        # New Zealand keeps daylight time (UTC+13) in January.
        assert code.valid_from == datetime(2026, 1, 9, 11, 0, tzinfo=UTC)
        assert code.valid_until == datetime(2026, 1, 12, 10, 59, 59, 999999, tzinfo=UTC)

    async def test_without_a_time_zone_a_date_is_a_day_in_utc(
        self, world: World
    ) -> None:
        actor = await world.organizer()

        code = await world.code(actor, valid_until=date(2026, 1, 12))

        assert code.valid_until == datetime(2026, 1, 12, 23, 59, 59, 999999, tzinfo=UTC)

    async def test_an_instant_is_kept_as_given(self, world: World) -> None:
        actor = await world.organizer()
        moment = datetime(2026, 2, 1, 12, 30, tzinfo=UTC)

        code = await world.code(actor, valid_until=moment)

        assert code.valid_until == moment

    async def test_the_organizer_time_zone_must_be_an_iana_zone(
        self, world: World
    ) -> None:
        actor = await world.organizer()

        with pytest.raises(ValidationFailed) as raised:
            await world.platform.profiles.update_organizer_profile(
                actor, {"timezone": "+02:00"}
            )

        assert field_codes(raised) == {"timezone": "invalid"}


class TestReading:
    async def test_the_list_is_newest_first_and_filtered(self, world: World) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        everywhere = await world.code(actor, code="everywhere")
        world.adapters.clock.advance(timedelta(minutes=1))
        here = await world.code(actor, code="here", events=(event.id,))
        world.adapters.clock.advance(timedelta(minutes=1))
        off = await world.code(actor, code="off", is_active=False)
        promotions = world.platform.promotions

        every = await promotions.list_promo_codes(
            actor, PromoCodeFilter(), PageRequest()
        )
        active = await promotions.list_promo_codes(
            actor, PromoCodeFilter(is_active=True, event_id=event.id), PageRequest()
        )

        assert [c.id for c in every.items] == [off.id, here.id, everywhere.id]
        assert every.total == 3
        assert [c.id for c in active.items] == [here.id, everywhere.id]

    async def test_another_organizers_code_is_not_found(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        grace = await world.organizer("grace@example.org")
        code = await world.code(ada)
        promotions = world.platform.promotions

        with pytest.raises(NotFound):
            await promotions.get_promo_code(grace, code.id)
        with pytest.raises(NotFound):
            await promotions.update_promo_code(grace, code.id, {"amount": Decimal(1)})
        with pytest.raises(NotFound):
            await promotions.deactivate_promo_code(grace, code.id)
        listed = await promotions.list_promo_codes(
            grace, PromoCodeFilter(), PageRequest()
        )
        assert listed.total == 0
        assert (await promotions.get_promo_code(ada, code.id)).amount == Decimal(25)


class TestUpdating:
    async def test_fields_change_and_the_code_must_stay_valid(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        code = await world.code(actor)
        promotions = world.platform.promotions

        changed = await promotions.update_promo_code(
            actor,
            code.id,
            {
                "discount_type": DiscountType.FIXED,
                "amount": Decimal(500),
                "events": (event.id,),
                "max_uses": 3,
            },
        )
        with pytest.raises(ValidationFailed) as raised:
            await promotions.update_promo_code(
                actor, code.id, {"discount_type": DiscountType.PERCENT}
            )

        assert (changed.discount_type, changed.amount) == (DiscountType.FIXED, 500)
        assert changed.event_ids == (event.id,)
        assert changed.all_events is False
        assert field_codes(raised) == {"amount": "out_of_range"}
        stored = await promotions.get_promo_code(actor, code.id)
        assert stored.discount_type is DiscountType.FIXED

    async def test_emptying_events_makes_the_code_good_for_all(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        event = await world.published(actor)
        code = await world.code(actor, events=(event.id,))

        changed = await world.platform.promotions.update_promo_code(
            actor, code.id, {"events": ()}
        )

        assert changed.all_events is True

    async def test_renaming_to_another_of_my_codes_is_taken(self, world: World) -> None:
        actor = await world.organizer()
        await world.code(actor, code="spring")
        summer = await world.code(actor, code="summer")

        with pytest.raises(ValidationFailed) as raised:
            await world.platform.promotions.update_promo_code(
                actor, summer.id, {"code": "SPRING"}
            )
        same = await world.platform.promotions.update_promo_code(
            actor, summer.id, {"code": "Summer"}
        )

        assert field_codes(raised) == {"code": "taken"}
        assert same.code == "Summer"

    async def test_uses_cannot_be_set_by_hand(self, world: World) -> None:
        actor = await world.organizer()
        code = await world.code(actor)

        with pytest.raises(ValidationFailed) as raised:
            await world.platform.promotions.update_promo_code(
                actor, code.id, {"times_used": 0}
            )

        assert field_codes(raised) == {"times_used": "read_only"}


class TestDeactivating:
    async def test_deactivating_keeps_the_code_inactive_and_is_audited_once(
        self, world: World
    ) -> None:
        actor = await world.organizer()
        code = await world.code(actor)
        promotions = world.platform.promotions

        await promotions.deactivate_promo_code(actor, code.id)
        await promotions.deactivate_promo_code(actor, code.id)

        assert (await promotions.get_promo_code(actor, code.id)).is_active is False
        async with world.adapters.ports().uow_factory() as uow:
            records = await uow.audit.list(action="promotions.promo_code.deactivated")
        assert len(records) == 1
