"""A freed seat follows the event's rules whichever path frees it, on memory."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.ports import PaymentGateway
from platform_core.events.model import Event
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
from platform_core.registrations.model import Registration, RegistrationStatus
from platform_core.registrations.service import RegistrationForm, RegistrationView
from tests.support import Core
from tests.unit.registrations.test_payments import ORGANIZER, HostedCheckout


@dataclasses.dataclass
class World:
    core: Core
    ada: Principal

    @property
    def platform(self) -> Platform:
        return self.core.platform

    @property
    def adapters(self) -> MemoryAdapters:
        return self.core.adapters

    async def event(self, **fields: Any) -> Event:
        starts_at = self.adapters.clock.now() + timedelta(days=7)
        values: dict[str, Any] = {
            "title": "Wound care",
            "timezone": "Europe/Paris",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "description": "Talks.",
            "capacity": 1,
            "waitlist_enabled": True,
            **fields,
        }
        event = await self.platform.events.create_event(self.ada, EventInput(**values))
        return await self.platform.events.set_published(self.ada, event.id, True)

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

    async def stored(self, registration_id: UUID) -> Registration:
        async with self.adapters.ports().uow_factory() as uow:
            found = await uow.registrations.get(registration_id)
        assert found is not None
        return found

    async def subjects_to(self, address: str) -> list[str]:
        await self.platform.outbox.drain()
        return [
            s.message.subject
            for s in self.adapters.mailer.sent
            if s.message.to == address
        ]

    def audit_actions(self) -> list[str]:
        return [record.action for record in self.adapters.store.tables.audit]


async def a_world(gateway: PaymentGateway | None = None) -> World:
    adapters = MemoryAdapters()
    ports = adapters.ports()
    if gateway is not None:
        ports = dataclasses.replace(ports, payment_gateway=gateway)
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    core = Core(platform, adapters)
    await platform.billing.upsert_plan(None, ORGANIZER)
    ada = await core.principal(await core.verified_user())
    await platform.billing.subscribe(ada, plan_code="organizer", interval="month")
    return World(core, ada)


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
