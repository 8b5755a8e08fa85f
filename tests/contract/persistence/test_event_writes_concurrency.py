"""Concurrent writes of one event through the core, on every backend.

Each write reads the event under its row lock, so none undoes another; a
capacity change holds the seats first, so registrations never end past it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from adapters.memory import ManualClock, MemoryAdapters
from adapters.storage.images import PillowImageChecker
from platform_core import IdentityPolicy, Platform
from platform_core.events.custom_fields import CustomFieldInput
from platform_core.events.fields import CustomField, FieldType, RequiredIf
from platform_core.events.model import Event, EventFormat, EventSession, EventStatus
from platform_core.events.service import SessionInput
from platform_core.identity.model import Principal, User
from platform_core.registrations.service import RegistrationForm
from platform_core.shared.errors import Conflict, ValidationFailed
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWorkFactory
from tests.contract.persistence.support import (
    NOW,
    a_user,
    an_event,
    an_unlimited_plan_for,
    store,
)
from tests.images import image_bytes

ROUNDS = 4
DAY = timedelta(days=1)


def platform_on(uow_factory: UnitOfWorkFactory) -> Platform:
    memory = MemoryAdapters(clock=ManualClock(NOW), image_checker=PillowImageChecker())
    ports = dataclasses.replace(memory.ports(), uow_factory=uow_factory)
    return Platform(ports, IdentityPolicy(frontend_url="https://app.test"))


def as_organizer(organizer: User) -> Principal:
    return Principal(user_id=organizer.id, session_id=new_id())


async def stored_event(uow_factory: UnitOfWorkFactory, event: Event) -> Event:
    async with uow_factory() as uow:
        found = await uow.events.get(event.id)
    assert found is not None
    return found


async def outcome(work: Awaitable[Any]) -> Any:
    """What a use case returned, or the domain error it refused with."""
    try:
        return await work
    except (Conflict, ValidationFailed) as refused:
        return refused


async def published_events(
    uow_factory: UnitOfWorkFactory, count: int, **fields: Any
) -> tuple[User, list[Event]]:
    organizer = a_user()
    events = [
        an_event(
            organizer,
            description="Two hours of talks.",
            format=EventFormat.HYBRID,
            venue="Hall A",
            address="1 Main Street",
            status=EventStatus.PUBLISHED,
            published_at=NOW,
            **fields,
        )
        for _ in range(count)
    ]
    await store(uow_factory, organizer, *an_unlimited_plan_for(organizer), *events)
    return organizer, events


class TestEditsKeepEachOther:
    async def test_concurrent_changes_of_different_fields_are_all_kept(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        platform = platform_on(uow_factory)
        organizer, events = await published_events(uow_factory, ROUNDS)
        actor = as_organizer(organizer)

        for event in events:
            await asyncio.gather(
                platform.events.update_event(actor, event.id, {"title": "Renamed"}),
                platform.events.update_event(actor, event.id, {"venue": "Hall B"}),
                platform.events.update_event(
                    actor, event.id, {"description": "Three talks."}
                ),
            )

        for event in events:
            kept = await stored_event(uow_factory, event)
            assert (kept.title, kept.venue, kept.description) == (
                "Renamed",
                "Hall B",
                "Three talks.",
            )

    async def test_an_edit_racing_a_cancellation_never_brings_the_event_back(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        platform = platform_on(uow_factory)
        organizer, events = await published_events(uow_factory, ROUNDS)
        actor = as_organizer(organizer)

        for event in events:
            title, cancelled, venue = await asyncio.gather(
                outcome(platform.events.update_event(actor, event.id, {"title": "x"})),
                platform.events.cancel_event(actor, event.id),
                outcome(platform.events.update_event(actor, event.id, {"venue": "v"})),
            )

            assert cancelled.status is EventStatus.CANCELLED
            for edit in (title, venue):
                assert isinstance(edit, Event) or edit.code == "event_cancelled"
            kept = await stored_event(uow_factory, event)
            assert kept.status is EventStatus.CANCELLED
            assert kept.cancelled_at is not None
            assert kept.published_at == NOW
            assert kept.title == ("x" if isinstance(title, Event) else event.title)
            assert kept.venue == ("v" if isinstance(venue, Event) else "Hall A")

    async def test_an_image_racing_an_edit_keeps_both(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        platform = platform_on(uow_factory)
        organizer, events = await published_events(uow_factory, ROUNDS)
        actor = as_organizer(organizer)

        for event in events:
            uploaded, _ = await asyncio.gather(
                platform.event_images.set_featured_image(
                    actor, event.id, image_bytes("PNG")
                ),
                platform.events.update_event(actor, event.id, {"title": "Renamed"}),
            )

            kept = await stored_event(uow_factory, event)
            assert kept.title == "Renamed"
            assert kept.featured_image == uploaded.featured_image is not None

    async def test_a_session_added_while_the_event_moves_never_falls_outside_it(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        platform = platform_on(uow_factory)
        organizer, events = await published_events(uow_factory, ROUNDS)
        actor = as_organizer(organizer)

        for event in events:
            moved, added = await asyncio.gather(
                outcome(
                    platform.events.update_event(
                        actor,
                        event.id,
                        {
                            "starts_at": event.starts_at + DAY,
                            "ends_at": event.ends_at + DAY,
                        },
                    )
                ),
                outcome(
                    platform.events.add_session(
                        actor,
                        event.id,
                        SessionInput(
                            title="Morning",
                            starts_at=event.starts_at,
                            ends_at=event.starts_at + timedelta(hours=1),
                        ),
                    )
                ),
            )

            assert isinstance(moved, Event) != isinstance(added, EventSession)
            kept = await stored_event(uow_factory, event)
            sessions = await platform.events.list_sessions(actor, event.id)
            assert all(
                kept.starts_at <= s.starts_at and s.ends_at <= kept.ends_at
                for s in sessions
            )

    async def test_two_conditions_set_at_once_never_close_a_circle(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        platform = platform_on(uow_factory)
        organizer, events = await published_events(uow_factory, ROUNDS)
        actor = as_organizer(organizer)
        fields = platform.custom_fields

        for event in events:
            first, second = [
                await fields.add_field(
                    actor, event.id, CustomFieldInput(label, FieldType.CHECKBOX)
                )
                for label in ("Member", "Student")
            ]

            outcomes = await asyncio.gather(
                *(
                    outcome(
                        fields.update_field(
                            actor,
                            event.id,
                            item.id,
                            {"required_if": RequiredIf(other.id, equals=True)},
                        )
                    )
                    for item, other in ((first, second), (second, first))
                )
            )

            assert sum(isinstance(o, CustomField) for o in outcomes) == 1
            stored = await fields.list_fields(actor, event.id)
            assert sum(f.required_if is not None for f in stored) == 1


class TestCapacityAgainstRegistrations:
    async def test_lowering_the_capacity_during_a_rush_never_leaves_it_overbooked(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        platform = platform_on(uow_factory)
        organizer, events = await published_events(uow_factory, ROUNDS, capacity=10)
        actor = as_organizer(organizer)

        async def register(event: Event, n: int) -> Any:
            return await outcome(
                platform.registrations.register(
                    None,
                    str(event.id),
                    RegistrationForm(
                        email=f"person{n}@example.org", first_name="P", last_name="Q"
                    ),
                )
            )

        for event in events:
            for n in range(5):
                assert not isinstance(await register(event, n), Conflict)

            lowered, *registered = await asyncio.gather(
                outcome(platform.events.update_event(actor, event.id, {"capacity": 5})),
                *(register(event, n) for n in range(5, 10)),
            )

            kept = await stored_event(uow_factory, event)
            async with uow_factory() as uow:
                holding = await uow.registrations.count_holding_seats(event.id)
            assert kept.capacity is not None
            assert holding <= kept.capacity
            if isinstance(lowered, Event):
                assert (kept.capacity, holding) == (5, 5)
                assert all(isinstance(r, Conflict) for r in registered)
            else:
                assert [(e.field, e.code) for e in lowered.errors] == [
                    ("capacity", "below_registrations")
                ]
                assert kept.capacity == 10
