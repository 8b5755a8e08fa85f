from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory import MemoryAdapters, build_memory_platform
from adapters.storage.images import PillowImageChecker
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.events.model import Event
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
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
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: None},
)


@dataclasses.dataclass
class World:
    """A memory core with plans, real image checks, and people to act."""

    core: Core

    @property
    def adapters(self) -> MemoryAdapters:
        return self.core.adapters

    async def person(self, email: str) -> Principal:
        return await self.core.principal(await self.core.verified_user(email))

    async def organizer(self, email: str) -> Principal:
        actor = await self.person(email)
        await self.core.platform.billing.subscribe(
            actor, plan_code="organizer", interval="month"
        )
        return actor

    async def event(self, actor: Principal, **fields: Any) -> Event:
        starts_at = self.adapters.clock.now() + timedelta(days=7)
        values: dict[str, Any] = {
            "title": "Cardiology update",
            "timezone": "Europe/Paris",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "description": "Talks.",
            **fields,
        }
        return await self.core.platform.events.create_event(actor, EventInput(**values))

    async def published(self, actor: Principal, **fields: Any) -> Event:
        event = await self.event(actor, **fields)
        return await self.core.platform.events.set_published(actor, event.id, True)


@pytest.fixture
async def world() -> World:
    adapters = MemoryAdapters(image_checker=PillowImageChecker())
    platform, _ = build_memory_platform("https://app.test", adapters)
    for plan in (ATTENDEE, ORGANIZER):
        await platform.billing.upsert_plan(None, plan)
    return World(Core(platform, adapters))
