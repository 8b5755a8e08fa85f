from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.memory import MemoryAdapters, build_memory_platform
from platform_core import Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.events.model import Event
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
from platform_core.promotions.model import DiscountType, PromoCode
from platform_core.promotions.service import PromoCodeInput
from platform_core.registrations.model import Registration, RegistrationStatus
from tests.support import Core

ATTENDEE = Plan(
    code="attendee",
    name="Attendee",
    prices=(Price(Interval.MONTH, 0, "USD"),),
)
ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER, Capability.PROMO_CODES}),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: None},
)


@dataclasses.dataclass
class World:
    """A memory core with plans, and organizers with events and codes."""

    core: Core

    @property
    def platform(self) -> Platform:
        return self.core.platform

    @property
    def adapters(self) -> MemoryAdapters:
        return self.core.adapters

    async def person(self, email: str) -> Principal:
        return await self.core.principal(await self.core.verified_user(email))

    async def organizer(self, email: str = "ada@example.org") -> Principal:
        actor = await self.person(email)
        await self.platform.billing.subscribe(
            actor, plan_code="organizer", interval="month"
        )
        return actor

    async def published(self, actor: Principal, **fields: Any) -> Event:
        starts_at = self.adapters.clock.now() + timedelta(days=30)
        values: dict[str, Any] = {
            "title": "Cardiology update",
            "timezone": "Europe/Paris",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "description": "Talks.",
            "price": 2000,
            "currency": "EUR",
            **fields,
        }
        event = await self.platform.events.create_event(actor, EventInput(**values))
        return await self.platform.events.set_published(actor, event.id, True)

    async def code(self, actor: Principal, **fields: Any) -> PromoCode:
        values: dict[str, Any] = {
            "code": "SPRING25",
            "discount_type": DiscountType.PERCENT,
            "amount": Decimal(25),
            **fields,
        }
        return await self.platform.promotions.create_promo_code(
            actor, PromoCodeInput(**values)
        )

    async def registered(self, event: Event, email: str, code: PromoCode) -> None:
        """A confirmed registration that used `code`, stored as it is."""
        async with self.adapters.ports().uow_factory() as uow:
            await uow.registrations.add(
                Registration(
                    event_id=event.id,
                    email=email,
                    first_name="Grace",
                    last_name="Hopper",
                    status=RegistrationStatus.CONFIRMED,
                    created_at=self.adapters.clock.now(),
                    promo_code_id=code.id,
                )
            )
            await uow.commit()

    async def times_used(self, actor: Principal, code: PromoCode) -> int:
        return (
            await self.platform.promotions.get_promo_code(actor, code.id)
        ).times_used


@pytest.fixture
async def world() -> World:
    platform, adapters = build_memory_platform("https://app.test")
    for plan in (ATTENDEE, ORGANIZER):
        await platform.billing.upsert_plan(None, plan)
    return World(Core(platform, adapters))
