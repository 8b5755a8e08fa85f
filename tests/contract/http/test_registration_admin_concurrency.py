"""Freed seats under concurrency: every backend promotes once per seat, never more."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from adapters.memory import ManualClock, RecordingDispatcher
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Ledger
from platform_core.events.model import Event, EventStatus
from platform_core.identity.model import Principal, User
from platform_core.registrations.handover import AfterCommit, SeatHandover
from platform_core.registrations.management import (
    PersonInput,
    RegistrationAdminService,
)
from platform_core.registrations.model import RegistrationFilter, RegistrationStatus
from platform_core.shared.ids import new_id
from platform_core.shared.pagination import PageRequest
from platform_core.uow import UnitOfWorkFactory
from tests.contract.persistence.support import (
    NOW,
    a_user,
    an_event,
    an_unlimited_plan_for,
    store,
)

CAPACITY = 2
PEOPLE = 6


def admin_service(uow_factory: UnitOfWorkFactory) -> RegistrationAdminService:
    clock = ManualClock(NOW)
    dispatcher = RecordingDispatcher()
    return RegistrationAdminService(
        uow_factory,
        clock,
        handover=SeatHandover(clock, dispatcher, frontend_url="https://app.test"),
        entitlements=Entitlements(uow_factory, Ledger(clock), dispatcher),
    )


async def full_event(
    uow_factory: UnitOfWorkFactory,
) -> tuple[User, Event, RegistrationAdminService]:
    organizer = a_user()
    event = an_event(
        organizer,
        capacity=CAPACITY,
        waitlist_enabled=True,
        status=EventStatus.PUBLISHED,
        published_at=NOW,
    )
    await store(uow_factory, organizer, *an_unlimited_plan_for(organizer), event)
    return organizer, event, admin_service(uow_factory)


def as_organizer(organizer: User) -> Principal:
    return Principal(user_id=organizer.id, session_id=new_id())


async def by_email(
    admin: RegistrationAdminService, actor: Principal, event: Event
) -> dict[str, RegistrationStatus]:
    page = await admin.list_registrations(
        actor, event.id, RegistrationFilter(), PageRequest(page_size=100)
    )
    return {row.registration.email: row.registration.status for row in page.items}


async def seats_taken(uow_factory: UnitOfWorkFactory, event: Event) -> int:
    async with uow_factory() as uow:
        return await uow.event_seats.taken(event.id)


@pytest.mark.parametrize("round_", range(3))
async def test_two_seats_freed_at_once_promote_exactly_two(
    uow_factory: UnitOfWorkFactory, round_: int
) -> None:
    organizer, event, admin = await full_event(uow_factory)
    actor = as_organizer(organizer)
    added = await admin.bulk_add(
        actor,
        event.id,
        [
            PersonInput(f"p{n}@example.org", f"P{n}", "Person")
            for n in range(1, PEOPLE + 1)
        ],
    )
    first, second = (r.registration for r in added[:CAPACITY])
    assert first is not None
    assert second is not None

    await asyncio.gather(
        admin.cancel_registration(actor, event.id, first.id),
        admin.cancel_registration(actor, event.id, second.id),
    )

    statuses = await by_email(admin, actor, event)
    assert statuses == {
        "p1@example.org": RegistrationStatus.CANCELLED,
        "p2@example.org": RegistrationStatus.CANCELLED,
        "p3@example.org": RegistrationStatus.CONFIRMED,
        "p4@example.org": RegistrationStatus.CONFIRMED,
        "p5@example.org": RegistrationStatus.WAITLISTED,
        "p6@example.org": RegistrationStatus.WAITLISTED,
    }
    assert await seats_taken(uow_factory, event) == CAPACITY
    waiting = await admin.waitlist(actor, event.id)
    assert [(r.registration.email, r.waitlist_position) for r in waiting] == [
        ("p5@example.org", 1),
        ("p6@example.org", 2),
    ]


async def test_the_same_cancellation_twice_at_once_promotes_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    organizer, event, admin = await full_event(uow_factory)
    actor = as_organizer(organizer)
    added = await admin.bulk_add(
        actor,
        event.id,
        [PersonInput(f"p{n}@example.org", f"P{n}", "Person") for n in range(1, 5)],
    )
    first = added[0].registration
    assert first is not None

    results = await asyncio.gather(
        admin.cancel_registration(actor, event.id, first.id),
        admin.cancel_registration(actor, event.id, first.id),
    )

    assert {r.registration.status for r in results} == {RegistrationStatus.CANCELLED}
    statuses = await by_email(admin, actor, event)
    assert statuses["p3@example.org"] is RegistrationStatus.CONFIRMED
    assert statuses["p4@example.org"] is RegistrationStatus.WAITLISTED
    assert await seats_taken(uow_factory, event) == CAPACITY


async def test_seats_freed_at_once_on_an_overbooked_event_promote_only_below_capacity(
    uow_factory: UnitOfWorkFactory,
) -> None:
    organizer, event, admin = await full_event(uow_factory)
    actor = as_organizer(organizer)
    over = await admin.bulk_add(
        actor,
        event.id,
        [PersonInput(f"p{n}@example.org", f"P{n}", "Person") for n in range(1, 5)],
        ignore_capacity=True,
    )
    await admin.bulk_add(
        actor,
        event.id,
        [PersonInput(f"p{n}@example.org", f"P{n}", "Person") for n in (5, 6)],
    )
    seated = [r.registration for r in over]
    assert all(r is not None for r in seated)

    await asyncio.gather(
        *(admin.cancel_registration(actor, event.id, r.id) for r in seated[:2] if r)
    )

    statuses = await by_email(admin, actor, event)
    assert [statuses[f"p{n}@example.org"] for n in range(3, 7)] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
    ]
    assert await seats_taken(uow_factory, event) == CAPACITY

    await asyncio.gather(
        *(admin.cancel_registration(actor, event.id, r.id) for r in seated[2:] if r)
    )

    statuses = await by_email(admin, actor, event)
    assert [statuses[f"p{n}@example.org"] for n in (5, 6)] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
    ]
    assert await seats_taken(uow_factory, event) == CAPACITY


async def raise_capacity(
    uow_factory: UnitOfWorkFactory, event: Event, capacity: int | None
) -> list[str]:
    """What the events context's hook does: the new seats go to whoever waits."""
    handover = SeatHandover(
        ManualClock(NOW), RecordingDispatcher(), frontend_url="https://app.test"
    )
    async with uow_factory() as uow:
        stored = await uow.events.get(event.id)
        assert stored is not None
        raised = replace(stored, capacity=capacity)
        await uow.events.update(raised)
        seated = await handover.seats_added(uow, raised, NOW, AfterCommit())
        await uow.commit()
    return [r.email for r in seated]


@pytest.mark.parametrize("round_", range(3))
async def test_a_capacity_raised_while_a_seat_frees_seats_exactly_up_to_it(
    uow_factory: UnitOfWorkFactory, round_: int
) -> None:
    organizer, event, admin = await full_event(uow_factory)
    actor = as_organizer(organizer)
    added = await admin.bulk_add(
        actor,
        event.id,
        [
            PersonInput(f"p{n}@example.org", f"P{n}", "Person")
            for n in range(1, PEOPLE + 1)
        ],
    )
    first = added[0].registration
    assert first is not None

    await asyncio.gather(
        admin.cancel_registration(actor, event.id, first.id),
        raise_capacity(uow_factory, event, CAPACITY + 2),
    )

    statuses = await by_email(admin, actor, event)
    assert statuses == {
        "p1@example.org": RegistrationStatus.CANCELLED,
        "p2@example.org": RegistrationStatus.CONFIRMED,
        "p3@example.org": RegistrationStatus.CONFIRMED,
        "p4@example.org": RegistrationStatus.CONFIRMED,
        "p5@example.org": RegistrationStatus.CONFIRMED,
        "p6@example.org": RegistrationStatus.WAITLISTED,
    }
    assert await seats_taken(uow_factory, event) == CAPACITY + 2


async def test_concurrent_raises_to_unlimited_seat_each_waiting_person_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    organizer, event, admin = await full_event(uow_factory)
    actor = as_organizer(organizer)
    await admin.bulk_add(
        actor,
        event.id,
        [
            PersonInput(f"p{n}@example.org", f"P{n}", "Person")
            for n in range(1, PEOPLE + 1)
        ],
    )

    seated = await asyncio.gather(
        raise_capacity(uow_factory, event, None),
        raise_capacity(uow_factory, event, None),
    )

    assert sorted(seated[0] + seated[1]) == [
        f"p{n}@example.org" for n in range(CAPACITY + 1, PEOPLE + 1)
    ]
    statuses = await by_email(admin, actor, event)
    assert set(statuses.values()) == {RegistrationStatus.CONFIRMED}
    assert await seats_taken(uow_factory, event) == PEOPLE
