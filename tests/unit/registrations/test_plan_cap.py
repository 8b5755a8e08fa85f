"""The organizer plan's registrations_per_event cap, at registration and in bulk."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from platform_core.billing.model import Limit
from platform_core.events.model import Event
from platform_core.registrations.management import BulkOutcome, PersonInput
from platform_core.registrations.model import RegistrationStatus
from platform_core.registrations.service import RegistrationForm, RegistrationView
from platform_core.shared.errors import QuotaExceeded
from tests.unit.registrations.support import ORGANIZER, OrganizerWorld, organizer_core

CAP = 3
CAPPED = dataclasses.replace(
    ORGANIZER,
    trial_days=14,
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: CAP},
)


@pytest.fixture
async def world() -> OrganizerWorld:
    return OrganizerWorld(*await organizer_core(plan=CAPPED))


async def register(world: OrganizerWorld, event: Event, n: int) -> RegistrationView:
    return await world.platform.registrations.register(
        None,
        event.slug,
        RegistrationForm(
            email=f"person{n}@example.org", first_name="Pat", last_name=str(n)
        ),
    )


class TestPlanCap:
    async def test_the_waitlist_counts_and_the_next_one_is_refused(
        self, world: OrganizerWorld
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        views = [await register(world, event, n) for n in range(CAP)]

        with pytest.raises(QuotaExceeded) as refused:
            await register(world, event, CAP)

        assert [v.registration.status for v in views] == [
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.WAITLISTED,
            RegistrationStatus.WAITLISTED,
        ]
        assert refused.value.extra["limit_name"] == "registrations_per_event"
        assert refused.value.extra["limit"] == CAP

    async def test_a_cancelled_registration_makes_room(
        self, world: OrganizerWorld
    ) -> None:
        event = await world.event()
        views = [await register(world, event, n) for n in range(CAP)]
        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, views[0].registration.id
        )

        again = await register(world, event, CAP)

        assert again.registration.status is RegistrationStatus.CONFIRMED

    async def test_bulk_rows_past_the_cap_are_refused_even_over_capacity(
        self, world: OrganizerWorld
    ) -> None:
        event = await world.event(capacity=1)
        await register(world, event, 0)
        rows = [
            PersonInput(email=f"bulk{n}@example.org", first_name="B", last_name="N")
            for n in range(4)
        ]

        results = await world.platform.registration_admin.bulk_add(
            world.ada, event.id, rows, ignore_capacity=True
        )

        assert [r.outcome for r in results] == [
            BulkOutcome.ADDED,
            BulkOutcome.ADDED,
            BulkOutcome.REFUSED,
            BulkOutcome.REFUSED,
        ]
        assert {r.code for r in results[2:]} == {"quota_exceeded"}

    async def test_a_lapsed_organizers_events_are_not_capped(
        self, world: OrganizerWorld
    ) -> None:
        starts_at = world.adapters.clock.now() + timedelta(days=30)
        event = await world.event(
            starts_at=starts_at, ends_at=starts_at + timedelta(hours=2)
        )
        for n in range(CAP):
            await register(world, event, n)
        world.adapters.clock.advance(timedelta(days=15))
        await world.platform.billing.expire_trials()

        late = await register(world, event, CAP)

        assert late.registration.status is RegistrationStatus.CONFIRMED
