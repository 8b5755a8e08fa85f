"""A freed seat follows the event's rules whichever path frees it, on memory."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, ClassVar

import pytest

from adapters.memory import MemoryAdapters
from platform_core.billing.ports import PaymentGateway
from platform_core.events.model import Event, EventStatus
from platform_core.identity.model import Principal
from platform_core.registrations.management import PersonInput
from platform_core.registrations.model import RegistrationStatus
from platform_core.registrations.service import RegistrationForm, RegistrationView
from tests.unit.registrations.support import (
    HostedCheckout,
    OrganizerWorld,
    organizer_core,
)


@dataclasses.dataclass
class World(OrganizerWorld):
    EVENT: ClassVar[dict[str, Any]] = {
        "title": "Wound care",
        "capacity": 1,
        "waitlist_enabled": True,
    }

    async def register(
        self, event: Event, n: int, actor: Principal | None = None
    ) -> RegistrationView:
        form = (
            RegistrationForm()
            if actor is not None
            else RegistrationForm(
                email=f"person{n}@example.org", first_name="Pat", last_name=str(n)
            )
        )
        return await self.platform.registrations.register(actor, str(event.id), form)


async def a_world(gateway: PaymentGateway | None = None) -> World:
    return World(*await organizer_core(gateway))


@pytest.fixture
async def world() -> World:
    return await a_world()


class TestOffersOnEveryPath:
    async def test_an_attendee_cancelling_on_an_offers_event_offers_the_seat(
        self, world: World
    ) -> None:
        event = await world.event(waitlist_offer_hours=24)
        attendee = await world.core.principal(
            await world.core.verified_user("attendee@example.org")
        )
        mine = await world.register(event, 1, attendee)
        waiting = await world.register(event, 2)

        await world.platform.registrations.cancel(attendee, mine.registration.id)

        offered = await world.stored(waiting.registration.id)
        assert offered.status is RegistrationStatus.WAITLISTED
        assert offered.offer_expires_at == (
            world.adapters.clock.now() + timedelta(hours=24)
        )
        assert "A seat is offered to you: Wound care" in (
            await world.subjects_to("person2@example.org")
        )
        assert "registrations.waitlist.offered" in world.audit_actions()
        assert "registrations.waitlist.promoted" not in world.audit_actions()

    async def test_an_ended_payment_hold_on_an_offers_event_offers_the_seat(
        self,
    ) -> None:
        world = await a_world(HostedCheckout(MemoryAdapters().clock))
        event = await world.event(waitlist_offer_hours=12, price=4_000, currency="EUR")
        first = await world.register(event, 1)
        second = await world.register(event, 2)
        world.adapters.clock.advance(timedelta(minutes=16))

        summary = await world.platform.registrations.expire_holds()

        assert summary.changed == 1
        assert (await world.stored(first.registration.id)).status is (
            RegistrationStatus.CANCELLED
        )
        offered = await world.stored(second.registration.id)
        assert offered.status is RegistrationStatus.WAITLISTED
        assert offered.offer_expires_at == (
            world.adapters.clock.now() + timedelta(hours=12)
        )
        assert "A seat is offered to you: Wound care" in (
            await world.subjects_to("person2@example.org")
        )

    async def test_a_cancelled_event_takes_back_an_attendees_seat(
        self, world: World
    ) -> None:
        event = await world.event()
        attendee = await world.core.principal(
            await world.core.verified_user("attendee@example.org")
        )
        mine = await world.register(event, 1, attendee)
        waiting = await world.register(event, 2)
        await world.platform.events.cancel_event(world.ada, event.id)

        await world.platform.registrations.cancel(attendee, mine.registration.id)

        assert (await world.stored(waiting.registration.id)).status is (
            RegistrationStatus.WAITLISTED
        )
        async with world.adapters.ports().uow_factory() as uow:
            assert await uow.event_seats.taken(event.id) == 0


class TestPaidSeatsPassedOnByOrganizers:
    async def test_an_organizer_cancelling_starts_the_checkout_of_the_next_in_line(
        self, world: World
    ) -> None:
        event = await world.event(price=2_500, currency="EUR")
        first = await world.register(event, 1)
        second = await world.register(event, 2)
        assert first.registration.status is RegistrationStatus.CONFIRMED
        assert second.registration.status is RegistrationStatus.WAITLISTED

        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )

        promoted = await world.stored(second.registration.id)
        assert promoted.status is RegistrationStatus.CONFIRMED
        assert promoted.payment_ref is not None
        assert promoted.hold_expires_at is None
        assert "You are registered: Wound care" in (
            await world.subjects_to("person2@example.org")
        )

    async def test_accepting_an_offer_of_a_paid_seat_starts_its_checkout(
        self, world: World
    ) -> None:
        event = await world.event(price=2_500, currency="EUR", waitlist_offer_hours=4)
        first = await world.register(event, 1)
        second = await world.register(event, 2)
        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )
        person2 = await world.core.principal(
            await world.core.verified_user("person2@example.org")
        )

        accepted = await world.platform.registration_admin.accept_offer(
            person2, second.registration.id
        )

        assert accepted.status is RegistrationStatus.CONFIRMED
        stored = await world.stored(second.registration.id)
        assert stored.status is RegistrationStatus.CONFIRMED
        assert stored.payment_ref is not None
        assert "You are registered: Wound care" in (
            await world.subjects_to("person2@example.org")
        )

    async def test_a_hosted_checkout_is_mailed_to_whoever_an_organizer_promotes(
        self,
    ) -> None:
        gateway = HostedCheckout(MemoryAdapters().clock)
        world = await a_world(gateway)
        event = await world.event(price=2_500, currency="EUR")
        first = await world.register(event, 1)
        second = await world.register(event, 2)
        await world.platform.registrations.payment_completed(gateway.pay("cs_1"))

        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )

        held = await world.stored(second.registration.id)
        assert held.status is RegistrationStatus.PENDING_PAYMENT
        assert held.payment_ref == "cs_2"
        assert held.hold_expires_at == world.adapters.clock.now() + timedelta(
            minutes=15
        )
        assert "Complete your registration: Wound care" in (
            await world.subjects_to("person2@example.org")
        )


class TestRaisingTheCapacity:
    async def raise_to(self, world: World, event: Event, capacity: int | None) -> None:
        await world.platform.events.update_event(
            world.ada, event.id, {"capacity": capacity}
        )

    async def taken(self, world: World, event: Event) -> int:
        async with world.adapters.ports().uow_factory() as uow:
            return await uow.event_seats.taken(event.id)

    async def test_new_seats_go_to_the_waitlist_before_any_newcomer(
        self, world: World
    ) -> None:
        event = await world.event()
        first = await world.register(event, 1)
        second = await world.register(event, 2)
        third = await world.register(event, 3)
        assert second.registration.status is RegistrationStatus.WAITLISTED

        await self.raise_to(world, event, 2)
        newcomer = await world.register(event, 4)

        assert first.registration.status is RegistrationStatus.CONFIRMED
        promoted = await world.stored(second.registration.id)
        assert promoted.status is RegistrationStatus.CONFIRMED
        assert promoted.confirmed_at == world.adapters.clock.now()
        assert (await world.stored(third.registration.id)).status is (
            RegistrationStatus.WAITLISTED
        )
        assert newcomer.registration.status is RegistrationStatus.WAITLISTED
        assert newcomer.waitlist_position == 2
        assert await self.taken(world, event) == 2
        assert "A seat is yours: Wound care" in (
            await world.subjects_to("person2@example.org")
        )
        assert world.audit_actions().count("registrations.waitlist.promoted") == 1

    async def test_seats_go_in_line_order_and_no_more_than_were_added(
        self, world: World
    ) -> None:
        event = await world.event()
        views = [await world.register(event, n) for n in range(1, 6)]

        await self.raise_to(world, event, 3)

        statuses = [(await world.stored(v.registration.id)).status for v in views]
        assert statuses == [
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.WAITLISTED,
            RegistrationStatus.WAITLISTED,
        ]
        assert await self.taken(world, event) == 3

    async def test_an_unlimited_capacity_seats_everyone_waiting(
        self, world: World
    ) -> None:
        event = await world.event()
        views = [await world.register(event, n) for n in range(1, 4)]

        await self.raise_to(world, event, None)
        newcomer = await world.register(event, 4)

        assert {(await world.stored(v.registration.id)).status for v in views} == {
            RegistrationStatus.CONFIRMED
        }
        assert newcomer.registration.status is RegistrationStatus.CONFIRMED
        assert await self.taken(world, event) == 4

    async def test_a_lower_or_equal_capacity_moves_nobody(self, world: World) -> None:
        event = await world.event(capacity=2)
        await world.register(event, 1)
        await world.register(event, 2)
        waiting = await world.register(event, 3)

        await self.raise_to(world, event, 2)
        await world.platform.events.update_event(
            world.ada, event.id, {"title": "Wound care, again"}
        )

        assert (await world.stored(waiting.registration.id)).status is (
            RegistrationStatus.WAITLISTED
        )
        assert "registrations.waitlist.promoted" not in world.audit_actions()

    async def test_an_event_with_offers_offers_the_new_seats(
        self, world: World
    ) -> None:
        event = await world.event(waitlist_offer_hours=6)
        await world.register(event, 1)
        second = await world.register(event, 2)
        third = await world.register(event, 3)

        await self.raise_to(world, event, 2)

        offered = await world.stored(second.registration.id)
        assert offered.status is RegistrationStatus.WAITLISTED
        assert offered.offer_expires_at == (
            world.adapters.clock.now() + timedelta(hours=6)
        )
        assert (await world.stored(third.registration.id)).offer_expires_at is None
        assert await self.taken(world, event) == 2
        assert "A seat is offered to you: Wound care" in (
            await world.subjects_to("person2@example.org")
        )

    async def test_a_paid_event_holds_the_new_seat_and_mails_its_checkout(
        self,
    ) -> None:
        gateway = HostedCheckout(MemoryAdapters().clock)
        world = await a_world(gateway)
        event = await world.event(price=2_500, currency="EUR")
        await world.register(event, 1)
        second = await world.register(event, 2)

        await self.raise_to(world, event, 2)

        held = await world.stored(second.registration.id)
        assert held.status is RegistrationStatus.PENDING_PAYMENT
        assert held.payment_ref == "cs_2"
        assert held.hold_expires_at == world.adapters.clock.now() + timedelta(
            minutes=15
        )
        assert "Complete your registration: Wound care" in (
            await world.subjects_to("person2@example.org")
        )

    async def test_an_overbooked_event_seats_nobody_until_below_the_capacity(
        self, world: World
    ) -> None:
        event = await world.event()
        await world.platform.registration_admin.bulk_add(
            world.ada,
            event.id,
            [PersonInput(f"p{n}@example.org", "P", str(n)) for n in range(1, 4)],
            ignore_capacity=True,
        )
        waiting = await world.register(event, 4)

        await self.raise_to(world, event, 3)
        still = await world.stored(waiting.registration.id)
        await self.raise_to(world, event, 4)

        assert still.status is RegistrationStatus.WAITLISTED
        assert (await world.stored(waiting.registration.id)).status is (
            RegistrationStatus.CONFIRMED
        )
        assert await self.taken(world, event) == 4

    async def test_a_cancelled_event_seats_nobody(self, world: World) -> None:
        event = await world.event()
        await world.register(event, 1)
        waiting = await world.register(event, 2)
        async with world.adapters.ports().uow_factory() as uow:
            stored = await uow.events.get(event.id)
            assert stored is not None
            stored.status = EventStatus.CANCELLED
            raised = dataclasses.replace(stored, capacity=5)
            follow_up = await world.platform.registrations.capacity_changed_in(
                uow, stored, raised
            )
            await uow.commit()
        await follow_up()

        assert (await world.stored(waiting.registration.id)).status is (
            RegistrationStatus.WAITLISTED
        )
