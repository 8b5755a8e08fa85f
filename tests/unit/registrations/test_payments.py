"""Paid registrations: seat holds, payment confirmation once, and expiry, on memory."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.memory import LocalPaymentGateway, MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.billing.ports import Payment, PaymentRequest
from platform_core.events.model import Event
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
from platform_core.registrations.model import RegistrationStatus
from platform_core.registrations.service import RegistrationForm, RegistrationView
from platform_core.shared.errors import ProviderUnavailable
from tests.support import Core

ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER, Capability.PROMO_CODES}),
    limits={Limit.EVENTS_PER_PERIOD: None},
)


class HostedCheckout(LocalPaymentGateway):
    """A gateway whose checkouts wait for the registrant, like Stripe's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started: dict[str, Payment] = {}
        self.down = False

    async def start_payment(self, request: PaymentRequest) -> Payment:
        if self.down:
            raise ProviderUnavailable("The payment provider did not answer.")
        payment = Payment(
            id=f"cs_{len(self.started) + 1}",
            url=f"https://pay.test/{len(self.started) + 1}",
            complete=False,
            reference=request.reference,
        )
        self.started[payment.id] = payment
        return payment

    async def retrieve_payment(self, payment_id: str) -> Payment | None:
        return self.started.get(payment_id)

    def pay(self, payment_id: str) -> Payment:
        paid = dataclasses.replace(self.started[payment_id], complete=True)
        self.started[payment_id] = paid
        return paid


@dataclasses.dataclass
class World:
    core: Core
    gateway: HostedCheckout
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
            "title": "Paid masterclass",
            "timezone": "Europe/Paris",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "description": "Talks.",
            "price": 5_000,
            "currency": "EUR",
            **fields,
        }
        event = await self.platform.events.create_event(self.ada, EventInput(**values))
        return await self.platform.events.set_published(self.ada, event.id, True)

    async def register(self, event: Event, n: int) -> RegistrationView:
        return await self.platform.registrations.register(
            None,
            str(event.id),
            RegistrationForm(
                email=f"person{n}@example.org", first_name="Pat", last_name=str(n)
            ),
        )

    async def status(self, view: RegistrationView) -> RegistrationStatus:
        async with self.adapters.ports().uow_factory() as uow:
            found = await uow.registrations.get(view.registration.id)
        assert found is not None
        return found.status

    async def taken(self, event: Event) -> int:
        async with self.adapters.ports().uow_factory() as uow:
            return await uow.event_seats.taken(event.id)

    async def subjects_to(self, n: int) -> list[str]:
        await self.platform.outbox.drain()
        return [
            s.message.subject
            for s in self.adapters.mailer.sent
            if s.message.to == f"person{n}@example.org"
        ]


@pytest.fixture
async def world() -> World:
    adapters = MemoryAdapters()
    gateway = HostedCheckout(adapters.clock)
    ports = dataclasses.replace(adapters.ports(), payment_gateway=gateway)
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    core = Core(platform, adapters)
    await platform.billing.upsert_plan(None, ORGANIZER)
    ada = await core.principal(await core.verified_user())
    await platform.billing.subscribe(ada, plan_code="organizer", interval="month")
    return World(core, gateway, ada)


class TestHold:
    async def test_a_paid_registration_holds_its_seat_while_the_checkout_runs(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)

        first = await world.register(event, 1)
        second = await world.register(event, 2)

        assert first.registration.status is RegistrationStatus.PENDING_PAYMENT
        assert first.checkout_url == "https://pay.test/1"
        hold = first.registration.hold_expires_at
        assert hold == world.adapters.clock.now() + timedelta(minutes=15)
        assert second.registration.status is RegistrationStatus.WAITLISTED
        assert await world.taken(event) == 1

    async def test_a_gateway_failure_releases_the_seat_and_says_so(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)
        world.gateway.down = True

        with pytest.raises(ProviderUnavailable):
            await world.register(event, 1)

        assert await world.taken(event) == 0
        world.gateway.down = False
        again = await world.register(event, 1)
        assert again.registration.status is RegistrationStatus.PENDING_PAYMENT


class TestPaymentCompleted:
    async def test_the_webhook_and_the_confirm_endpoint_confirm_once_in_either_order(
        self, world: World
    ) -> None:
        event = await world.event()
        view = await world.register(event, 1)
        payment = world.gateway.pay("cs_1")

        by_webhook = await world.platform.registrations.payment_completed(payment)
        by_return = await world.platform.registrations.confirm_payment(
            view.registration.id
        )
        again = await world.platform.registrations.payment_completed(payment)

        assert (by_webhook, again) == (True, False)
        assert by_return.registration.status is RegistrationStatus.CONFIRMED
        subjects = await world.subjects_to(1)
        assert subjects == ["You are registered: Paid masterclass"]

    async def test_confirming_before_the_payment_is_made_changes_nothing(
        self, world: World
    ) -> None:
        event = await world.event()
        view = await world.register(event, 1)

        early = await world.platform.registrations.confirm_payment(view.registration.id)

        assert early.registration.status is RegistrationStatus.PENDING_PAYMENT
        world.gateway.pay("cs_1")
        late = await world.platform.registrations.confirm_payment(view.registration.id)
        assert late.registration.status is RegistrationStatus.CONFIRMED

    async def test_a_promo_code_that_makes_it_free_skips_payment(
        self, world: World
    ) -> None:
        from platform_core.promotions.model import DiscountType
        from platform_core.promotions.service import PromoCodeInput

        event = await world.event()
        await world.platform.promotions.create_promo_code(
            world.ada,
            PromoCodeInput(
                code="FREE100", discount_type=DiscountType.PERCENT, amount=Decimal(100)
            ),
        )

        view = await world.platform.registrations.register(
            None,
            event.slug,
            RegistrationForm(
                email="free@example.org",
                first_name="Fay",
                last_name="Free",
                promo_code="free100",
            ),
        )

        assert view.registration.status is RegistrationStatus.CONFIRMED
        assert (view.registration.list_price, view.registration.amount) == (5_000, 0)
        assert world.gateway.started == {}


class TestExpiry:
    async def test_an_ended_hold_passes_the_seat_to_the_waitlist_once(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        first = await world.register(event, 1)
        second = await world.register(event, 2)
        world.adapters.clock.advance(timedelta(minutes=16))

        summary = await world.platform.registrations.expire_holds()
        again = await world.platform.registrations.expire_holds()

        assert (summary.changed, again.changed) == (1, 0)
        assert await world.status(first) is RegistrationStatus.CANCELLED
        assert await world.status(second) is RegistrationStatus.PENDING_PAYMENT
        assert await world.taken(event) == 1
        assert "Complete your registration: Paid masterclass" in (
            await world.subjects_to(2)
        )
        assert "Seat released: Paid masterclass" in await world.subjects_to(1)

    async def test_a_payment_after_the_hold_ended_confirms_nothing(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)
        first = await world.register(event, 1)
        world.adapters.clock.advance(timedelta(minutes=16))
        await world.platform.registrations.expire_holds()

        late = await world.platform.registrations.payment_completed(
            world.gateway.pay("cs_1")
        )

        assert late is False
        assert await world.status(first) is RegistrationStatus.CANCELLED
        assert await world.taken(event) == 0

    async def test_a_live_hold_is_left_alone(self, world: World) -> None:
        event = await world.event(capacity=1)
        first = await world.register(event, 1)
        world.adapters.clock.advance(timedelta(minutes=14))

        summary = await world.platform.registrations.expire_holds()

        assert summary.changed == 0
        assert await world.status(first) is RegistrationStatus.PENDING_PAYMENT
