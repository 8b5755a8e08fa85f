"""EventService rules that need registrations or a renderer, on the memory adapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any
from uuid import UUID

import icalendar
import pytest

from adapters.calendar import IcalendarRenderer
from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.events.model import CatalogueFilter, Event, EventSession
from platform_core.events.service import EventInput, SessionInput
from platform_core.identity.model import Principal
from platform_core.shared.errors import (
    Conflict,
    NotConfigured,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from platform_core.shared.pagination import PageRequest
from platform_core.uow import UnitOfWork
from tests.support import Core

ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: None},
)


class FakeRegistrations:
    """Confirmed counts per event, set by the test."""

    def __init__(self) -> None:
        self.confirmed_by_event: dict[UUID, int] = {}
        self.registered: set[UUID] = set()

    async def confirmed(self, uow: UnitOfWork, event_id: UUID) -> int:
        return self.confirmed_by_event.get(event_id, 0)

    async def any(self, uow: UnitOfWork, event_id: UUID) -> bool:
        return event_id in self.registered or event_id in self.confirmed_by_event

    async def active(self, uow: UnitOfWork, event_id: UUID) -> int:
        return self.confirmed_by_event.get(event_id, 0)

    async def has_answers(self, uow: UnitOfWork, field_id: UUID) -> bool:
        return False


@dataclasses.dataclass
class World:
    core: Core
    registrations: FakeRegistrations
    ada: Principal

    @property
    def platform(self) -> Platform:
        return self.core.platform

    async def event(self, **fields: Any) -> Event:
        starts_at = self.core.adapters.clock.now() + timedelta(days=7)
        values: dict[str, Any] = {
            "title": "Cardiology update",
            "timezone": "Europe/Paris",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=2),
            "description": "Talks.",
            **fields,
        }
        return await self.platform.events.create_event(
            self.ada,
            EventInput(**values),
        )

    async def published(self, **fields: Any) -> Event:
        event = await self.event(**fields)
        return await self.platform.events.set_published(self.ada, event.id, True)


def _world_platform(
    adapters: MemoryAdapters, registrations: FakeRegistrations, *, calendar: bool
) -> Platform:
    ports = dataclasses.replace(
        adapters.ports(),
        registrations=registrations,
        calendar=IcalendarRenderer() if calendar else None,
    )
    return Platform(ports, IdentityPolicy(frontend_url="https://app.test"))


async def _world(*, calendar: bool = True) -> World:
    adapters = MemoryAdapters()
    registrations = FakeRegistrations()
    core = Core(_world_platform(adapters, registrations, calendar=calendar), adapters)
    await core.platform.billing.upsert_plan(None, ORGANIZER)
    ada = await core.principal(await core.verified_user())
    await core.platform.billing.subscribe(ada, plan_code="organizer", interval="month")
    return World(core, registrations, ada)


@pytest.fixture
async def world() -> World:
    return await _world()


def _codes(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.code for e in error.errors}


class TestCapacity:
    async def test_capacity_cannot_go_below_confirmed_registrations(
        self, world: World
    ) -> None:
        event = await world.event(capacity=50)
        world.registrations.confirmed_by_event[event.id] = 20

        with pytest.raises(ValidationFailed) as refused:
            await world.platform.events.update_event(
                world.ada, event.id, {"capacity": 19}
            )

        assert _codes(refused.value) == {"capacity": "below_registrations"}
        unchanged = await world.platform.events.get_event(world.ada, event.id)
        assert unchanged.capacity == 50

    async def test_capacity_may_equal_confirmed_registrations_or_be_unlimited(
        self, world: World
    ) -> None:
        event = await world.event(capacity=50)
        world.registrations.confirmed_by_event[event.id] = 20

        exact = await world.platform.events.update_event(
            world.ada, event.id, {"capacity": 20}
        )
        unlimited = await world.platform.events.update_event(
            world.ada, event.id, {"capacity": None}
        )

        assert (exact.capacity, unlimited.capacity) == (20, None)


class TestDeleting:
    async def test_an_event_with_registrations_is_refused_deletion(
        self, world: World
    ) -> None:
        event = await world.event()
        world.registrations.registered.add(event.id)

        with pytest.raises(Conflict) as refused:
            await world.platform.events.delete_event(world.ada, event.id)

        assert refused.value.code == "event_has_registrations"
        assert (await world.platform.events.get_event(world.ada, event.id)).id == (
            event.id
        )

    async def test_an_event_without_registrations_is_deleted_with_its_sessions(
        self, world: World
    ) -> None:
        event = await world.event()
        session = await world.platform.events.add_session(
            world.ada,
            event.id,
            SessionInput(
                "Morning", event.starts_at, event.starts_at + timedelta(hours=1)
            ),
        )

        await world.platform.events.delete_event(world.ada, event.id)

        with pytest.raises(NotFound):
            await world.platform.events.get_event(world.ada, event.id)
        async with world.core.adapters.ports().uow_factory() as uow:
            assert await uow.event_sessions.get(session.id) is None


class TestWhenThePlanNoLongerGrantsOrganizer:
    """Plans are data: the organizer plan loses its capability under the account."""

    @staticmethod
    async def lapsed_with_a_session(
        world: World, event: Event
    ) -> tuple[Event, EventSession]:
        """The event with one session, once the plan lost its capability."""
        session = await world.platform.events.add_session(
            world.ada,
            event.id,
            SessionInput("Morning", event.starts_at, event.ends_at),
        )
        await world.platform.billing.upsert_plan(
            None, dataclasses.replace(ORGANIZER, capabilities=frozenset())
        )
        return event, session

    async def test_changing_publishing_and_adding_sessions_are_refused(
        self, world: World
    ) -> None:
        event, session = await self.lapsed_with_a_session(world, await world.event())
        events = world.platform.events
        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: events.update_event(world.ada, event.id, {"capacity": 5000}),
            lambda: events.set_published(world.ada, event.id, True),
            lambda: events.add_session(
                world.ada,
                event.id,
                SessionInput("Evening", event.starts_at, event.ends_at),
            ),
            lambda: events.update_session(
                world.ada, event.id, session.id, {"title": "X"}
            ),
        ]

        for attempt in attempts:
            with pytest.raises(PermissionDenied) as refused:
                await attempt()
            assert refused.value.code == "capability_missing"

        kept = await events.get_event(world.ada, event.id)
        assert (kept.capacity, kept.is_published) == (None, False)
        sessions = await events.list_sessions(world.ada, event.id)
        assert [s.title for s in sessions] == ["Morning"]

    async def test_unpublishing_removing_and_cancelling_stay_allowed(
        self, world: World
    ) -> None:
        event, session = await self.lapsed_with_a_session(
            world, await world.published()
        )
        events = world.platform.events

        draft = await events.set_published(world.ada, event.id, False)
        await events.delete_session(world.ada, event.id, session.id)
        cancelled = await events.cancel_event(world.ada, event.id)

        assert draft.is_published is False
        assert await events.list_sessions(world.ada, event.id) == []
        assert cancelled.status.value == "cancelled"


class TestSlugs:
    async def test_a_title_that_reads_as_another_events_uuid_gets_no_such_slug(
        self, world: World
    ) -> None:
        first = await world.published()

        copycat = await world.published(title=str(first.id))
        hexed = await world.event(title=first.id.hex)

        assert copycat.slug == f"event-{first.id}"
        assert hexed.slug == f"event-{first.id.hex}"
        found = await world.platform.events.public_event(str(first.id))
        assert found.event.id == first.id


class TestPublishing:
    async def test_an_event_that_has_ended_cannot_be_published(
        self, world: World
    ) -> None:
        event = await world.event()
        world.core.adapters.clock.advance(event.ends_at - event.created_at)

        with pytest.raises(ValidationFailed) as refused:
            await world.platform.events.set_published(world.ada, event.id, True)

        assert _codes(refused.value) == {"ends_at": "past"}
        stored = await world.platform.events.get_event(world.ada, event.id)
        assert stored.is_published is False

    async def test_an_event_that_has_not_ended_yet_can_be_published(
        self, world: World
    ) -> None:
        event = await world.event()
        world.core.adapters.clock.advance(
            event.ends_at - event.created_at - timedelta(seconds=1)
        )

        published = await world.platform.events.set_published(world.ada, event.id, True)

        assert published.is_published is True

    async def test_a_published_event_cannot_be_moved_to_end_in_the_past(
        self, world: World
    ) -> None:
        event = await world.published()
        now = world.core.adapters.clock.now()

        with pytest.raises(ValidationFailed) as refused:
            await world.platform.events.update_event(
                world.ada,
                event.id,
                {
                    "starts_at": now - timedelta(hours=3),
                    "ends_at": now - timedelta(hours=1),
                },
            )

        assert _codes(refused.value) == {"ends_at": "past"}
        stored = await world.platform.events.get_event(world.ada, event.id)
        assert stored.ends_at == event.ends_at

    async def test_a_published_event_that_has_ended_can_still_be_edited(
        self, world: World
    ) -> None:
        event = await world.published()
        world.core.adapters.clock.advance(event.ends_at - event.created_at)

        edited = await world.platform.events.update_event(
            world.ada, event.id, {"description": "Slides are online."}
        )

        assert edited.description == "Slides are online."


class TestThePublicPage:
    async def test_seats_left_count_confirmed_registrations(self, world: World) -> None:
        event = await world.published(capacity=10)
        world.registrations.confirmed_by_event[event.id] = 7

        public = await world.platform.events.public_event(event.slug)

        assert public.seats_left == 3
        assert public.registration_open is True
        assert public.organizer.name == "Ada Lovelace"

    async def test_a_full_event_is_not_open_for_registration(
        self, world: World
    ) -> None:
        event = await world.published(capacity=10)
        world.registrations.confirmed_by_event[event.id] = 10

        public = await world.platform.events.public_event(str(event.id))

        assert (public.seats_left, public.registration_open) == (0, False)

    async def test_a_full_event_with_a_waitlist_is_open_for_it(
        self, world: World
    ) -> None:
        event = await world.published(capacity=10, waitlist_enabled=True)
        world.registrations.confirmed_by_event[event.id] = 10

        public = await world.platform.events.public_event(event.slug)

        assert (public.seats_left, public.registration_open) == (0, True)

    async def test_registration_is_closed_after_its_closing_time(
        self, world: World
    ) -> None:
        event = await world.published()
        closes = event.starts_at - timedelta(days=1)
        await world.platform.events.update_event(
            world.ada, event.id, {"registration_closes_at": closes}
        )
        world.core.adapters.clock.advance(
            closes - world.core.adapters.clock.now() + timedelta(seconds=1)
        )

        public = await world.platform.events.public_event(event.slug)

        assert public.registration_open is False

    @pytest.mark.parametrize("identifier", ["", "x" * 81, "a b", "ÉVÉNEMENT", "a\x00"])
    async def test_an_identifier_no_slug_can_have_is_not_found(
        self, world: World, identifier: str
    ) -> None:
        with pytest.raises(NotFound):
            await world.platform.events.public_event(identifier)


class TestTheCatalogue:
    async def test_cards_carry_each_organizers_name(self, world: World) -> None:
        await world.published(title="One")
        await world.published(title="Two")

        page = await world.platform.events.browse_catalogue(
            CatalogueFilter(), PageRequest()
        )

        assert sorted(c.event.title for c in page.items) == ["One", "Two"]
        assert {c.organizer.name for c in page.items} == {"Ada Lovelace"}
        assert {c.organizer.id for c in page.items} == {world.ada.user_id}


class TestTheCalendarFile:
    async def test_a_session_is_one_entry(self, world: World) -> None:
        event = await world.published()
        for hour in (0, 1):
            start = event.starts_at + timedelta(hours=hour)
            await world.platform.events.add_session(
                world.ada,
                event.id,
                SessionInput(f"Part {hour}", start, start + timedelta(hours=1)),
            )

        file = await world.platform.events.calendar_file(event.slug)

        calendar = icalendar.Calendar.from_ical(file.content)
        assert file.filename == f"{event.slug}.ics"
        assert len(calendar.walk("VEVENT")) == 2
        assert _tzids(calendar.walk("VTIMEZONE")) == ["Europe/Paris"]

    async def test_a_cancelled_event_is_marked_cancelled(self, world: World) -> None:
        event = await world.published()
        await world.platform.events.cancel_event(world.ada, event.id)

        file = await world.platform.events.calendar_file(str(event.id))

        entries = icalendar.Calendar.from_ical(file.content).walk("VEVENT")
        assert [str(e["STATUS"]) for e in entries] == ["CANCELLED"]

    async def test_without_a_renderer_the_calendar_is_not_configured(self) -> None:
        world = await _world(calendar=False)
        event = await world.published()

        with pytest.raises(NotConfigured):
            await world.platform.events.calendar_file(event.slug)


def _tzids(components: Iterable[icalendar.Component]) -> list[str]:
    return [str(c["TZID"]) for c in components]
