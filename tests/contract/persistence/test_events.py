from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import delete, select
from sqlalchemy.event import listen, remove
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import create_engine, sql_uow_factory
from adapters.persistence.tables import event_sessions, events, users
from platform_core.events.model import (
    PRICE_MAX,
    CatalogueFilter,
    CatalogueOrder,
    Event,
    EventFilter,
    EventFormat,
    EventStatus,
    PriceFilter,
    Visibility,
)
from platform_core.events.ports import DuplicateSlug
from platform_core.identity.model import User
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import (
    NOW,
    Given,
    a_user,
    an_audit_record,
    an_event,
    an_event_session,
    in_parallel,
)

SQL_BACKENDS = ("sqlite", "postgres")
PLUS_FIVE = timezone(timedelta(hours=5, minutes=30))
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)

# Ids on both sides of every byte's sign bit, so no engine may order them as
# signed numbers or by their text with hyphens in other places.
ORDERED_IDS = [
    UUID("00000000-0000-4000-8000-000000000001"),
    UUID("0000000f-ffff-4fff-bfff-ffffffffffff"),
    UUID("7fffffff-ffff-4fff-bfff-ffffffffffff"),
    UUID("80000000-0000-4000-8000-000000000000"),
    UUID("80000000-0000-4000-8000-000000000001"),
    UUID("ffffffff-ffff-4fff-bfff-fffffffffffe"),
]


def every_field_set(organizer_id: UUID, **fields: Any) -> Event:
    """An event with no field left at its default, instants in two offsets."""
    values: dict[str, Any] = {
        "organizer_id": organizer_id,
        "title": "Cardiology update: what's new in 2031",
        "slug": f"cardiology-update-{new_id().hex[:8]}",
        "timezone": "Asia/Kolkata",
        "starts_at": (NOW + 30 * DAY).astimezone(PLUS_FIVE),
        "ends_at": NOW + 31 * DAY + TICK,
        "created_at": NOW - 2 * DAY,
        "description": "Two days of talks.\nLunch included: café au lait, 100%.",
        "format": EventFormat.HYBRID,
        "venue": "Palais des Congrès",
        "address": "2 Place de la Porte Maillot, 75017 Paris",
        "capacity": 1_000_000,
        "registration_opens_at": NOW - DAY,
        "registration_closes_at": (NOW + 29 * DAY).astimezone(PLUS_FIVE),
        "price": PRICE_MAX,
        "currency": "EUR",
        "cpd_credits": Decimal("999.99"),
        "certificate_enabled": True,
        "min_attendance_percent": 80,
        "visibility": Visibility.UNLISTED,
        "waitlist_enabled": True,
        "featured_image": "events/cardiology.webp",
        "status": EventStatus.CANCELLED,
        "published_at": NOW - timedelta(hours=5),
        "cancelled_at": NOW.astimezone(PLUS_FIVE),
        "updated_at": NOW + timedelta(seconds=1),
    }
    return Event(**(values | fields))


def a_listed_event(organizer: User, **fields: Any) -> Event:
    """A published public event, in the catalogue while it has not ended."""
    defaults: dict[str, Any] = {
        "description": "A day of talks.",
        "status": EventStatus.PUBLISHED,
        "visibility": Visibility.PUBLIC,
        "published_at": NOW - DAY,
    }
    return an_event(organizer, **(defaults | fields))


async def stored(uow_factory: UnitOfWorkFactory, event_id: UUID) -> Event:
    async with uow_factory() as uow:
        found = await uow.events.get(event_id)
    assert found is not None
    return found


async def organizers_events(
    uow_factory: UnitOfWorkFactory,
    organizer: User,
    criteria: EventFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Event], int]:
    async with uow_factory() as uow:
        items, total = await uow.events.list_for_organizer(
            organizer.id, criteria or EventFilter(), offset=offset, limit=limit
        )
    return list(items), total


async def catalogue(
    uow_factory: UnitOfWorkFactory,
    criteria: CatalogueFilter | None = None,
    *,
    now: datetime = NOW,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Event], int]:
    async with uow_factory() as uow:
        items, total = await uow.events.catalogue(
            criteria or CatalogueFilter(), now, offset=offset, limit=limit
        )
    return list(items), total


async def slugs_like(uow_factory: UnitOfWorkFactory, base: str) -> set[str]:
    async with uow_factory() as uow:
        return await uow.events.slugs_like(base)


class TestAdd:
    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = every_field_set(organizer.id)

        await given(organizer, event)

        async with uow_factory() as uow:
            assert await uow.events.get(event.id) == event
            assert await uow.events.get_by_slug(event.slug) == event

    async def test_defaults_survive_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = Event(
            organizer_id=organizer.id,
            title="Intro",
            slug="intro",
            timezone="UTC",
            starts_at=NOW,
            ends_at=NOW + timedelta(hours=1),
            created_at=NOW,
        )

        await given(organizer, event)

        found = await stored(uow_factory, event.id)
        assert found == event
        assert found.format is EventFormat.ONLINE
        assert found.visibility is Visibility.PUBLIC
        assert found.status is EventStatus.DRAFT
        assert found.capacity is None
        assert found.currency is None
        assert found.featured_image is None
        assert isinstance(found.cpd_credits, Decimal)

    @pytest.mark.parametrize("credits", ["0", "0.01", "12.5", "999.99", "1000"])
    async def test_cpd_credits_come_back_as_the_same_decimal(
        self, uow_factory: UnitOfWorkFactory, given: Given, credits: str
    ) -> None:
        organizer = a_user()
        event = an_event(organizer, cpd_credits=Decimal(credits))

        await given(organizer, event)

        found = await stored(uow_factory, event.id)
        assert isinstance(found.cpd_credits, Decimal)
        assert found.cpd_credits == Decimal(credits)

    async def test_instants_come_back_aware_and_equal(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = every_field_set(organizer.id)
        await given(organizer, event)

        found = await stored(uow_factory, event.id)

        for name in ("starts_at", "registration_closes_at", "cancelled_at"):
            value = getattr(found, name)
            assert value == getattr(event, name)
            assert value.utcoffset() is not None

    async def test_a_taken_slug_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        first = an_event(organizer, slug="intro")
        await given(organizer, other, first)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSlug):
                await uow.events.add(an_event(other, slug="intro"))

        async with uow_factory() as uow:
            assert await uow.events.get_by_slug("intro") == first
            assert await uow.events.list_for_organizer(
                other.id, EventFilter(), offset=0, limit=10
            ) == ([], 0)

    async def test_unit_of_work_stays_usable_after_a_refused_slug(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer, an_event(organizer, slug="intro"))
        kept = an_event(organizer, slug="intro-2")

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSlug):
                await uow.events.add(an_event(organizer, slug="intro"))
            await uow.events.add(kept)
            await uow.audit.add(an_audit_record("events.event.created"))
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.events.get_by_slug("intro-2") == kept
            assert await uow.audit.count(action="events.event.created") == 1

    async def test_of_concurrent_adds_with_one_slug_one_is_kept(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)

        async def create(uow: UnitOfWork) -> bool:
            try:
                await uow.events.add(an_event(organizer, slug="intro"))
            except DuplicateSlug:
                return False
            return True

        outcomes = await in_parallel(uow_factory, 10, create)

        assert outcomes.count(True) == 1
        _, total = await organizers_events(uow_factory, organizer)
        assert total == 1

    async def test_an_add_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)
        dropped = an_event(organizer, slug="intro")
        kept = an_event(organizer, slug="intro")

        async with uow_factory() as uow:
            await uow.events.add(dropped)
            assert await uow.events.get(dropped.id) == dropped

        async with uow_factory() as uow:
            assert await uow.events.get(dropped.id) is None
            assert await uow.events.get_by_slug("intro") is None
            await uow.events.add(kept)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.events.get_by_slug("intro") == kept

    async def test_changing_an_added_event_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        original = replace(event)
        await given(organizer, event)

        event.title = "Renamed"
        event.status = EventStatus.PUBLISHED

        assert await stored(uow_factory, event.id) == original


class TestGet:
    async def test_unknown_ids_and_slugs_find_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer, an_event(organizer, slug="intro"))

        async with uow_factory() as uow:
            assert await uow.events.get(new_id()) is None
            assert await uow.events.get_by_slug("intro-2") is None
            assert await uow.events.get_by_slug("intr") is None
            assert await uow.events.get_by_slug("INTRO") is None

    async def test_changing_a_returned_event_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)

        async with uow_factory() as uow:
            loaded = await uow.events.get_by_slug(event.slug)
            assert loaded is not None
            loaded.status = EventStatus.CANCELLED
            loaded.cancelled_at = NOW
            await uow.commit()

        assert await stored(uow_factory, event.id) == event


class TestGetForUpdate:
    async def test_reads_the_event_like_get_and_nothing_for_an_unknown_id(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = every_field_set(organizer.id)
        await given(organizer, event)

        async with uow_factory() as uow:
            assert await uow.events.get_for_update(event.id) == event
            assert await uow.events.get_for_update(new_id()) is None

    async def test_a_second_writer_waits_for_the_first_and_starts_from_its_change(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer, title="Cardiology", venue="Hall A")
        await given(organizer, event)

        async def second_writer() -> Event:
            async with uow_factory() as uow:
                seen = await uow.events.get_for_update(event.id)
                assert seen is not None
                seen.venue = "Hall B"
                await uow.events.update(seen)
                await uow.commit()
                return seen

        async with uow_factory() as first:
            held = await first.events.get_for_update(event.id)
            assert held is not None
            waiting = asyncio.create_task(second_writer())
            await asyncio.sleep(0.3)
            assert not waiting.done()
            held.title = "Cardiology update"
            await first.events.update(held)
            await first.commit()
        second = await waiting

        assert (second.title, second.venue) == ("Cardiology update", "Hall B")
        kept = await stored(uow_factory, event.id)
        assert (kept.title, kept.venue) == ("Cardiology update", "Hall B")


class TestUpdate:
    async def test_update_replaces_every_stored_field(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)
        changed = every_field_set(organizer.id, id=event.id)

        async with uow_factory() as uow:
            await uow.events.update(changed)
            await uow.commit()

        assert await stored(uow_factory, event.id) == changed
        async with uow_factory() as uow:
            assert await uow.events.get_by_slug(event.slug) is None
            assert await uow.events.get_by_slug(changed.slug) == changed

    async def test_taking_another_events_slug_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        mine = an_event(organizer, slug="intro")
        theirs = an_event(organizer, slug="advanced")
        await given(organizer, mine, theirs)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSlug):
                await uow.events.update(replace(theirs, slug="intro"))
            await uow.events.update(replace(theirs, title="Advanced topics"))
            await uow.commit()

        found = await stored(uow_factory, theirs.id)
        assert (found.slug, found.title) == ("advanced", "Advanced topics")
        assert await stored(uow_factory, mine.id) == mine

    async def test_an_update_rolled_back_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)

        async with uow_factory() as uow:
            await uow.events.update(replace(event, status=EventStatus.PUBLISHED))
            await uow.rollback()
            assert await uow.events.get(event.id) == event

        assert await stored(uow_factory, event.id) == event

    async def test_updating_an_unknown_event_raises_key_error(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer)

        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.events.update(an_event(organizer))


class TestDelete:
    async def test_delete_removes_the_event_and_its_sessions_only(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        doomed, kept = an_event(organizer), an_event(organizer)
        doomed_sessions = [an_event_session(doomed), an_event_session(doomed)]
        kept_session = an_event_session(kept)
        await given(organizer, doomed, kept, *doomed_sessions, kept_session)

        async with uow_factory() as uow:
            await uow.events.delete(doomed.id)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.events.get(doomed.id) is None
            assert await uow.events.get_by_slug(doomed.slug) is None
            for session in doomed_sessions:
                assert await uow.event_sessions.get(session.id) is None
            assert await uow.event_sessions.list_for_event(doomed.id) == []
            assert await uow.events.get(kept.id) == kept
            assert await uow.event_sessions.list_for_event(kept.id) == [kept_session]

    async def test_a_deleted_events_slug_can_be_taken_again(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        old = an_event(organizer, slug="intro")
        await given(organizer, old)
        new = an_event(organizer, slug="intro")

        async with uow_factory() as uow:
            await uow.events.delete(old.id)
            await uow.events.add(new)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.events.get_by_slug("intro") == new

    async def test_a_delete_rolled_back_keeps_the_event_and_its_sessions(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = an_event_session(event)
        await given(organizer, event, session)

        async with uow_factory() as uow:
            await uow.events.delete(event.id)
            assert await uow.event_sessions.get(session.id) is None
            await uow.rollback()

        async with uow_factory() as uow:
            assert await uow.events.get(event.id) == event
            assert await uow.event_sessions.list_for_event(event.id) == [session]

    async def test_deleting_an_unknown_event_raises_key_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.events.delete(new_id())


class TestSlugsLike:
    async def test_finds_the_base_and_the_slugs_continuing_it_after_a_hyphen(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        slugs = [
            "intro",
            "intro-2",
            "intro-10",
            "intro-a1b2c3",
            "intro-to-python",
            "introduction",
            "intro2",
            "my-intro",
            "my-intro-2",
            "intr",
        ]
        await given(organizer, *(an_event(organizer, slug=s) for s in slugs))

        assert await slugs_like(uow_factory, "intro") == {
            "intro",
            "intro-2",
            "intro-10",
            "intro-a1b2c3",
            "intro-to-python",
        }
        assert await slugs_like(uow_factory, "my-intro") == {"my-intro", "my-intro-2"}

    async def test_finds_continuations_when_the_base_itself_is_free(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer, an_event(organizer, slug="intro-2"))

        assert await slugs_like(uow_factory, "intro") == {"intro-2"}
        assert await slugs_like(uow_factory, "outro") == set()

    async def test_wildcards_in_the_base_match_only_themselves(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        slugs = [
            "a_b",
            "a_b-2",
            "axb",
            "axb-2",
            "a%b-3",
            "a-long-b-4",
            "a/b-5",
            "a\\b-6",
            "a.b-7",
        ]
        await given(organizer, *(an_event(organizer, slug=s) for s in slugs))

        assert await slugs_like(uow_factory, "a_b") == {"a_b", "a_b-2"}
        assert await slugs_like(uow_factory, "a%b") == {"a%b-3"}
        assert await slugs_like(uow_factory, "a/b") == {"a/b-5"}
        assert await slugs_like(uow_factory, "a\\b") == {"a\\b-6"}
        assert await slugs_like(uow_factory, "a.b") == {"a.b-7"}
        assert await slugs_like(uow_factory, "_") == set()
        assert await slugs_like(uow_factory, "%") == set()

    async def test_letters_match_in_their_own_case(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(
            organizer,
            an_event(organizer, slug="Intro-2"),
            an_event(organizer, slug="intro-3"),
        )

        assert await slugs_like(uow_factory, "intro") == {"intro-3"}
        assert await slugs_like(uow_factory, "INTRO") == set()

    async def test_sees_the_unit_of_works_own_uncommitted_events(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        await given(organizer, an_event(organizer, slug="intro"))

        async with uow_factory() as uow:
            await uow.events.add(an_event(organizer, slug="intro-2"))
            assert await uow.events.slugs_like("intro") == {"intro", "intro-2"}

        assert await slugs_like(uow_factory, "intro") == {"intro"}


class TestListForOrganizer:
    async def test_lists_only_the_organizers_events_soonest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        later = an_event(organizer, starts_at=NOW + 3 * DAY)
        sooner = an_event(organizer, starts_at=NOW - 2 * DAY)
        middle = an_event(organizer, starts_at=(NOW + DAY).astimezone(PLUS_FIVE))
        theirs = an_event(other, starts_at=NOW)
        await given(organizer, other, later, sooner, middle, theirs)

        assert await organizers_events(uow_factory, organizer) == (
            [sooner, middle, later],
            3,
        )
        assert await organizers_events(uow_factory, other) == ([theirs], 1)
        assert await organizers_events(uow_factory, a_user()) == ([], 0)

    async def test_events_starting_together_are_ordered_by_id(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        added = [an_event(organizer, id=i) for i in reversed(ORDERED_IDS)]
        await given(organizer, *added)

        items, total = await organizers_events(uow_factory, organizer)

        assert [e.id for e in items] == ORDERED_IDS
        assert total == len(ORDERED_IDS)

    async def test_offset_and_limit_page_through_them_and_the_total_stays(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        added = [an_event(organizer, starts_at=NOW + h * DAY) for h in range(5)]
        await given(organizer, *reversed(added))

        pages = [
            await organizers_events(uow_factory, organizer, offset=o, limit=2)
            for o in (0, 2, 4, 6)
        ]

        assert pages == [
            (added[0:2], 5),
            (added[2:4], 5),
            (added[4:5], 5),
            ([], 5),
        ]

    async def test_filters_by_status(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        draft = an_event(organizer, starts_at=NOW)
        published = a_listed_event(organizer, starts_at=NOW + DAY)
        cancelled = an_event(
            organizer, status=EventStatus.CANCELLED, starts_at=NOW + 2 * DAY
        )
        also_draft = an_event(organizer, starts_at=NOW + 3 * DAY)
        await given(organizer, draft, published, cancelled, also_draft)

        def only(status: EventStatus) -> EventFilter:
            return EventFilter(status=status)

        assert await organizers_events(
            uow_factory, organizer, only(EventStatus.DRAFT)
        ) == ([draft, also_draft], 2)
        assert await organizers_events(
            uow_factory, organizer, only(EventStatus.PUBLISHED)
        ) == ([published], 1)
        assert await organizers_events(
            uow_factory, organizer, only(EventStatus.CANCELLED)
        ) == ([cancelled], 1)

    async def test_starts_after_includes_its_instant_and_starts_before_does_not(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        hour = timedelta(hours=1)
        too_early = an_event(organizer, starts_at=NOW - TICK)
        at_start = an_event(organizer, starts_at=NOW)
        last_in = an_event(organizer, starts_at=NOW + hour - TICK)
        too_late = an_event(organizer, starts_at=NOW + hour)
        await given(organizer, too_early, at_start, last_in, too_late)

        window = EventFilter(
            starts_after=NOW.astimezone(PLUS_FIVE), starts_before=NOW + hour
        )

        assert await organizers_events(uow_factory, organizer, window) == (
            [at_start, last_in],
            2,
        )
        assert await organizers_events(
            uow_factory, organizer, EventFilter(starts_after=NOW + hour)
        ) == ([too_late], 1)
        assert await organizers_events(
            uow_factory, organizer, EventFilter(starts_before=NOW)
        ) == ([too_early], 1)

    async def test_search_ignores_case_in_titles_and_descriptions(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        by_title = an_event(organizer, title="Advanced Cardiology", starts_at=NOW + DAY)
        by_description = an_event(
            organizer,
            title="Workshop",
            description="Hands-on CARDIOLOGY skills.",
            starts_at=NOW + 2 * DAY,
        )
        unrelated = an_event(organizer, title="Dermatology", starts_at=NOW + 3 * DAY)
        await given(organizer, unrelated, by_description, by_title)

        def searching(term: str) -> EventFilter:
            return EventFilter(search=term)

        assert await organizers_events(uow_factory, organizer, searching("cardio")) == (
            [by_title, by_description],
            2,
        )
        assert await organizers_events(
            uow_factory, organizer, searching("ADVANCED cardiology")
        ) == ([by_title], 1)
        assert await organizers_events(uow_factory, organizer, searching("ology")) == (
            [by_title, by_description, unrelated],
            3,
        )
        assert await organizers_events(
            uow_factory, organizer, searching("neurology")
        ) == ([], 0)

    async def test_search_takes_wildcards_literally(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        percent = an_event(organizer, title="50% off", starts_at=NOW + DAY)
        digits = an_event(organizer, title="500 off", starts_at=NOW + 2 * DAY)
        underscore = an_event(organizer, title="snake_case", starts_at=NOW + 3 * DAY)
        letter = an_event(organizer, title="snakescase", starts_at=NOW + 4 * DAY)
        slash = an_event(organizer, title="either/or", starts_at=NOW + 5 * DAY)
        await given(organizer, percent, digits, underscore, letter, slash)

        def found(term: str) -> EventFilter:
            return EventFilter(search=term)

        assert await organizers_events(uow_factory, organizer, found("50%")) == (
            [percent],
            1,
        )
        assert await organizers_events(uow_factory, organizer, found("%")) == (
            [percent],
            1,
        )
        assert await organizers_events(uow_factory, organizer, found("e_c")) == (
            [underscore],
            1,
        )
        assert await organizers_events(uow_factory, organizer, found("_")) == (
            [underscore],
            1,
        )
        assert await organizers_events(uow_factory, organizer, found("r/o")) == (
            [slash],
            1,
        )

    async def test_filters_combine(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        match = a_listed_event(organizer, title="Cardiology", starts_at=NOW + DAY)
        draft = an_event(organizer, title="Cardiology", starts_at=NOW + DAY)
        too_late = a_listed_event(
            organizer, title="Cardiology", starts_at=NOW + 5 * DAY
        )
        other_title = a_listed_event(organizer, title="Surgery", starts_at=NOW + DAY)
        await given(organizer, match, draft, too_late, other_title)

        criteria = EventFilter(
            status=EventStatus.PUBLISHED,
            starts_after=NOW,
            starts_before=NOW + 2 * DAY,
            search="cardio",
        )

        assert await organizers_events(uow_factory, organizer, criteria) == (
            [match],
            1,
        )


class TestCatalogue:
    async def test_shows_published_public_events_that_have_not_ended(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        upcoming = a_listed_event(organizer, starts_at=NOW + DAY)
        ongoing = a_listed_event(
            organizer, starts_at=NOW - timedelta(hours=1), ends_at=NOW + TICK
        )
        ended_now = a_listed_event(
            organizer, starts_at=NOW - timedelta(hours=1), ends_at=NOW
        )
        draft = an_event(organizer, starts_at=NOW + DAY)
        cancelled = a_listed_event(
            organizer, status=EventStatus.CANCELLED, cancelled_at=NOW
        )
        unlisted = a_listed_event(organizer, visibility=Visibility.UNLISTED)
        await given(organizer, upcoming, ongoing, ended_now, draft, cancelled, unlisted)

        assert await catalogue(uow_factory) == ([ongoing, upcoming], 2)

    async def test_include_past_adds_the_events_that_ended(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        upcoming = a_listed_event(organizer, starts_at=NOW + DAY)
        ended_now = a_listed_event(
            organizer, starts_at=NOW - timedelta(hours=1), ends_at=NOW
        )
        long_ago = a_listed_event(organizer, starts_at=NOW - 300 * DAY)
        past_draft = an_event(organizer, starts_at=NOW - 300 * DAY)
        past_unlisted = a_listed_event(
            organizer, starts_at=NOW - 300 * DAY, visibility=Visibility.UNLISTED
        )
        await given(organizer, upcoming, ended_now, long_ago, past_draft, past_unlisted)

        assert await catalogue(uow_factory, CatalogueFilter(include_past=True)) == (
            [long_ago, ended_now, upcoming],
            3,
        )

    async def test_compares_now_across_offsets(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = a_listed_event(organizer, starts_at=NOW - DAY, ends_at=NOW)
        await given(organizer, event)

        just_before = (NOW - TICK).astimezone(PLUS_FIVE)

        assert await catalogue(uow_factory, now=just_before) == ([event], 1)
        assert await catalogue(uow_factory, now=NOW.astimezone(PLUS_FIVE)) == ([], 0)

    async def test_search_ignores_case_and_takes_wildcards_literally(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        by_title = a_listed_event(
            organizer, title="Advanced Cardiology", starts_at=NOW + DAY
        )
        by_description = a_listed_event(
            organizer,
            title="Workshop",
            description="Hands-on CARDIOLOGY, 100% practical.",
            starts_at=NOW + 2 * DAY,
        )
        unrelated = a_listed_event(
            organizer,
            title="Dermatology",
            description="1000 practical cases.",
            starts_at=NOW + 3 * DAY,
        )
        await given(organizer, by_title, by_description, unrelated)

        def searching(term: str) -> CatalogueFilter:
            return CatalogueFilter(search=term)

        assert await catalogue(uow_factory, searching("CARDIO")) == (
            [by_title, by_description],
            2,
        )
        assert await catalogue(uow_factory, searching("100% PRACTICAL")) == (
            [by_description],
            1,
        )
        assert await catalogue(uow_factory, searching("1_0")) == ([], 0)
        assert await catalogue(uow_factory, searching("neurology")) == ([], 0)

    async def test_filters_by_organizer(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        mine = a_listed_event(organizer, starts_at=NOW + DAY)
        theirs = a_listed_event(other, starts_at=NOW + 2 * DAY)
        await given(organizer, other, mine, theirs)

        assert await catalogue(
            uow_factory, CatalogueFilter(organizer_id=organizer.id)
        ) == ([mine], 1)
        assert await catalogue(uow_factory, CatalogueFilter(organizer_id=other.id)) == (
            [theirs],
            1,
        )

    async def test_starts_after_includes_its_instant_and_starts_before_does_not(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        start = NOW + DAY
        too_early = a_listed_event(organizer, starts_at=start - TICK)
        at_start = a_listed_event(organizer, starts_at=start)
        last_in = a_listed_event(organizer, starts_at=start + DAY - TICK)
        too_late = a_listed_event(organizer, starts_at=start + DAY)
        await given(organizer, too_early, at_start, last_in, too_late)

        window = CatalogueFilter(
            starts_after=start.astimezone(PLUS_FIVE), starts_before=start + DAY
        )

        assert await catalogue(uow_factory, window) == ([at_start, last_in], 2)

    async def test_filters_by_format(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        by_format = {
            f: a_listed_event(organizer, format=f, starts_at=NOW + i * DAY)
            for i, f in enumerate(EventFormat, start=1)
        }
        await given(organizer, *by_format.values())

        for event_format, event in by_format.items():
            assert await catalogue(
                uow_factory, CatalogueFilter(format=event_format)
            ) == ([event], 1)

    async def test_filters_free_and_paid_events(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        free = a_listed_event(organizer, price=0, starts_at=NOW + DAY)
        cheap = a_listed_event(
            organizer, price=1, currency="EUR", starts_at=NOW + 2 * DAY
        )
        dear = a_listed_event(
            organizer, price=PRICE_MAX, currency="USD", starts_at=NOW + 3 * DAY
        )
        await given(organizer, free, cheap, dear)

        assert await catalogue(
            uow_factory, CatalogueFilter(price=PriceFilter.FREE)
        ) == ([free], 1)
        assert await catalogue(
            uow_factory, CatalogueFilter(price=PriceFilter.PAID)
        ) == ([cheap, dear], 2)

    async def test_filters_combine(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        common: dict[str, Any] = {
            "title": "Cardiology",
            "format": EventFormat.IN_PERSON,
            "price": 0,
            "starts_at": NOW + DAY,
        }
        match = a_listed_event(organizer, **common)
        near_misses = [
            a_listed_event(other, **common),
            a_listed_event(organizer, **(common | {"title": "Surgery"})),
            a_listed_event(organizer, **(common | {"format": EventFormat.ONLINE})),
            a_listed_event(organizer, **(common | {"price": 100, "currency": "EUR"})),
            a_listed_event(organizer, **(common | {"starts_at": NOW + 9 * DAY})),
        ]
        await given(organizer, other, match, *near_misses)

        criteria = CatalogueFilter(
            search="cardio",
            organizer_id=organizer.id,
            starts_after=NOW,
            starts_before=NOW + 2 * DAY,
            format=EventFormat.IN_PERSON,
            price=PriceFilter.FREE,
        )

        assert await catalogue(uow_factory, criteria) == ([match], 1)

    @pytest.mark.parametrize(
        ("order", "expected"),
        [
            (CatalogueOrder.STARTS_AT, [1, 4, 3, 5, 0, 2]),
            (CatalogueOrder.STARTS_AT_DESC, [0, 2, 3, 5, 1, 4]),
            (CatalogueOrder.TITLE, [1, 2, 0, 3, 4, 5]),
            (CatalogueOrder.PRICE, [1, 4, 0, 2, 3, 5]),
            (CatalogueOrder.PRICE_DESC, [3, 5, 0, 2, 1, 4]),
        ],
    )
    async def test_orders_as_asked_and_ties_by_id(
        self,
        uow_factory: UnitOfWorkFactory,
        given: Given,
        order: CatalogueOrder,
        expected: list[int],
    ) -> None:
        organizer = a_user()
        # Titles fold ASCII letters only and then compare by their bytes, so
        # "Écrin" (C3 89) comes before "école" (C3 A9), and both after every
        # ASCII title, on every backend.
        rows = [
            ("banana", NOW + 3 * DAY, 500),
            ("Apple", NOW + DAY, 0),
            ("apple", NOW + 3 * DAY, 500),
            ("Cherry", NOW + 2 * DAY, 1500),
            ("Écrin", NOW + DAY, 0),
            ("école", NOW + 2 * DAY, 1500),
        ]
        added = [
            a_listed_event(
                organizer,
                id=ORDERED_IDS[i],
                title=title,
                starts_at=starts_at,
                price=price,
                currency="EUR" if price else None,
            )
            for i, (title, starts_at, price) in enumerate(rows)
        ]
        await given(organizer, *reversed(added))

        items, total = await catalogue(uow_factory, CatalogueFilter(order=order))

        assert items == [added[i] for i in expected]
        assert total == len(rows)

    async def test_offset_and_limit_page_through_them_and_the_total_stays(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        added = [a_listed_event(organizer, starts_at=NOW + h * DAY) for h in range(5)]
        await given(organizer, *reversed(added), an_event(organizer))

        pages = [await catalogue(uow_factory, offset=o, limit=2) for o in (0, 2, 4, 6)]

        assert pages == [
            (added[0:2], 5),
            (added[2:4], 5),
            (added[4:5], 5),
            ([], 5),
        ]


class TestCountActive:
    async def test_counts_the_organizers_events_not_cancelled_and_not_ended(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer, other = a_user(), a_user()
        await given(
            organizer,
            other,
            an_event(organizer, starts_at=NOW + DAY),
            a_listed_event(organizer, starts_at=NOW - DAY, ends_at=NOW + TICK),
            a_listed_event(organizer, visibility=Visibility.UNLISTED),
            an_event(organizer, status=EventStatus.CANCELLED, cancelled_at=NOW),
            a_listed_event(organizer, starts_at=NOW - DAY, ends_at=NOW),
            an_event(organizer, starts_at=NOW - 30 * DAY),
            an_event(other, starts_at=NOW + DAY),
        )

        async with uow_factory() as uow:
            assert await uow.events.count_active(organizer.id, NOW) == 3
            assert await uow.events.count_active(other.id, NOW) == 1
            assert await uow.events.count_active(organizer.id, NOW + 365 * DAY) == 0
            assert await uow.events.count_active(new_id(), NOW) == 0


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for rows and statement counts."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@contextmanager
def recorded_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL text of every statement `engine` sends while the block runs."""
    statements: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *context: Any) -> None:
        statements.append(statement)

    listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_enums_and_amounts_are_stored_as_plain_values(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        organizer = a_user()
        await given(
            organizer,
            every_field_set(organizer.id, price=150_000, cpd_credits=Decimal("12.75")),
        )

        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        events.c.format,
                        events.c.visibility,
                        events.c.status,
                        events.c.price,
                        events.c.cpd_credits,
                    )
                )
            ).one()

        assert tuple(row) == (
            "hybrid",
            "unlisted",
            "cancelled",
            150_000,
            Decimal("12.75"),
        )

    async def test_a_deleted_organizer_takes_events_and_sessions_with_them(
        self, uow_factory: UnitOfWorkFactory, given: Given, engine: AsyncEngine
    ) -> None:
        organizer, other = a_user(), a_user()
        doomed, kept = an_event(organizer), an_event(other)
        kept_session = an_event_session(kept)
        await given(
            organizer, other, doomed, kept, an_event_session(doomed), kept_session
        )

        async with engine.begin() as connection:
            await connection.execute(delete(users).where(users.c.id == organizer.id))
            remaining_events = await connection.execute(select(events.c.id))
            assert list(remaining_events.scalars()) == [kept.id]
            remaining_sessions = await connection.execute(select(event_sessions.c.id))
            assert list(remaining_sessions.scalars()) == [kept_session.id]

    async def test_an_event_needs_an_existing_organizer(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        orphan = an_event(a_user())

        async with uow_factory() as uow:
            with pytest.raises(IntegrityError):
                await uow.events.add(orphan)

    async def test_the_catalogue_takes_two_statements_whatever_the_page_size(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        organizer = a_user()
        await given(
            organizer,
            *(a_listed_event(organizer, starts_at=NOW + h * DAY) for h in range(25)),
        )
        counted: dict[int, int] = {}

        for size in (1, 20):
            async with sql_uow_factory(engine)() as uow:
                # The connection and its transaction are opened before counting.
                assert await uow.events.count_active(organizer.id, NOW) == 25
                with recorded_statements(engine) as statements:
                    items, total = await uow.events.catalogue(
                        CatalogueFilter(), NOW, offset=0, limit=size
                    )
            assert (len(items), total) == (size, 25)
            assert all(s.lstrip().upper().startswith("SELECT") for s in statements)
            counted[size] = len(statements)

        assert counted == {1: 2, 20: 2}
