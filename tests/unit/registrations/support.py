"""What the registration unit tests share: an organizer on the memory platform."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, ClassVar
from uuid import UUID

from adapters.memory import LocalPaymentGateway, MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.billing.ports import Payment, PaymentGateway, PaymentRequest
from platform_core.events.model import Event
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
from platform_core.registrations.model import Registration
from platform_core.shared.errors import ProviderUnavailable
from tests.support import Core

ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    capabilities=frozenset(
        {Capability.ORGANIZER, Capability.PROMO_CODES, Capability.CUSTOM_FIELDS}
    ),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: None},
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

    async def refund_payment(self, payment_id: str) -> bool:
        if self.down:
            raise ProviderUnavailable("The payment provider did not answer.")
        return await super().refund_payment(payment_id)

    def pay(self, payment_id: str) -> Payment:
        paid = dataclasses.replace(self.started[payment_id], complete=True)
        self.started[payment_id] = paid
        return paid


async def organizer_core(
    gateway: PaymentGateway | None = None, plan: Plan = ORGANIZER
) -> tuple[Core, Principal]:
    """The memory platform (with `gateway` if given) and Ada on `plan`."""
    adapters = MemoryAdapters()
    ports = adapters.ports()
    if gateway is not None:
        ports = dataclasses.replace(ports, payment_gateway=gateway)
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    core = Core(platform, adapters)
    await platform.billing.upsert_plan(None, plan)
    ada = await core.principal(await core.verified_user())
    await platform.billing.subscribe(ada, plan_code=plan.code, interval="month")
    return core, ada


@dataclasses.dataclass
class OrganizerWorld:
    """Ada the organizer, her published events, and what the store holds."""

    core: Core
    ada: Principal

    EVENT: ClassVar[dict[str, Any]] = {}
    """Fields of every event this world publishes, over the common ones."""

    @property
    def platform(self) -> Platform:
        return self.core.platform

    @property
    def adapters(self) -> MemoryAdapters:
        return self.core.adapters

    async def event(self, **fields: Any) -> Event:
        """A published event of Ada's, a week from now, lasting two hours."""
        starts_at = self.adapters.clock.now() + timedelta(days=7)
        values: dict[str, Any] = {
            "title": "Cardiology update",
            "timezone": "Europe/Paris",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "description": "Talks.",
            **self.EVENT,
            **fields,
        }
        event = await self.platform.events.create_event(self.ada, EventInput(**values))
        return await self.platform.events.set_published(self.ada, event.id, True)

    async def stored(self, registration_id: UUID) -> Registration:
        async with self.adapters.ports().uow_factory() as uow:
            found = await uow.registrations.get(registration_id)
        assert found is not None
        return found

    async def taken(self, event: Event) -> int:
        async with self.adapters.ports().uow_factory() as uow:
            return await uow.event_seats.taken(event.id)

    async def subjects_to(self, address: str) -> list[str]:
        await self.platform.outbox.drain()
        return [
            s.message.subject
            for s in self.adapters.mailer.sent
            if s.message.to == address
        ]

    def audit_actions(self) -> list[str]:
        return [record.action for record in self.adapters.store.tables.audit]
