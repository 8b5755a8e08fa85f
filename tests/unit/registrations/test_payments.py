"""Paid registrations: seat holds, payment confirmation once, and expiry, on memory."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from adapters.memory import MemoryAdapters
from platform_core.events.model import Event
from platform_core.registrations.model import RegistrationStatus
from platform_core.registrations.service import RegistrationForm, RegistrationView
from platform_core.shared.errors import ProviderUnavailable
from tests.unit.registrations.support import (
    HostedCheckout,
    OrganizerWorld,
    organizer_core,
)


@dataclasses.dataclass
class World(OrganizerWorld):
    gateway: HostedCheckout = dataclasses.field(kw_only=True)

    EVENT: ClassVar[dict[str, Any]] = {
        "title": "Paid masterclass",
        "price": 5_000,
        "currency": "EUR",
    }

    async def register(self, event: Event, n: int) -> RegistrationView:
        return await self.platform.registrations.register(
            None,
            str(event.id),
            RegistrationForm(
                email=f"person{n}@example.org", first_name="Pat", last_name=str(n)
            ),
        )

    async def status(self, view: RegistrationView) -> RegistrationStatus:
        return (await self.stored(view.registration.id)).status


@pytest.fixture
async def world() -> World:
    gateway = HostedCheckout(MemoryAdapters().clock)
    core, ada = await organizer_core(gateway)
    return World(core, ada, gateway=gateway)


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
        subjects = await world.subjects_to("person1@example.org")
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
            await world.subjects_to("person2@example.org")
        )
        assert "Seat released: Paid masterclass" in await world.subjects_to(
            "person1@example.org"
        )

    async def test_a_payment_after_the_hold_ended_is_refunded_once(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)
        first = await world.register(event, 1)
        world.adapters.clock.advance(timedelta(minutes=16))
        await world.platform.registrations.expire_holds()
        paid = world.gateway.pay("cs_1")

        late = await world.platform.registrations.payment_completed(paid)
        again = await world.platform.registrations.payment_completed(paid)

        assert (late, again) == (True, False)
        assert world.gateway.refunded == {"cs_1"}
        assert await world.status(first) is RegistrationStatus.CANCELLED
        assert await world.taken(event) == 0
        subjects = await world.subjects_to("person1@example.org")
        assert subjects.count("Payment refunded: Paid masterclass") == 1
        assert world.audit_actions().count("registrations.payment.refunded") == 1

    async def test_a_refund_the_provider_cannot_make_now_is_tried_again(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)
        await world.register(event, 1)
        world.adapters.clock.advance(timedelta(minutes=16))
        await world.platform.registrations.expire_holds()
        paid = world.gateway.pay("cs_1")
        world.gateway.down = True

        with pytest.raises(ProviderUnavailable):
            await world.platform.registrations.payment_completed(paid)
        world.gateway.down = False
        retried = await world.platform.registrations.payment_completed(paid)

        assert retried is True
        assert world.gateway.refunded == {"cs_1"}

    async def test_a_paid_registration_cancelled_later_is_not_refunded(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)
        first = await world.register(event, 1)
        paid = world.gateway.pay("cs_1")
        assert await world.platform.registrations.payment_completed(paid)
        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )

        redelivered = await world.platform.registrations.payment_completed(paid)

        assert redelivered is False
        assert world.gateway.refunded == set()
        assert await world.status(first) is RegistrationStatus.CANCELLED

    async def test_a_live_hold_is_left_alone(self, world: World) -> None:
        event = await world.event(capacity=1)
        first = await world.register(event, 1)
        world.adapters.clock.advance(timedelta(minutes=14))

        summary = await world.platform.registrations.expire_holds()

        assert summary.changed == 0
        assert await world.status(first) is RegistrationStatus.PENDING_PAYMENT
