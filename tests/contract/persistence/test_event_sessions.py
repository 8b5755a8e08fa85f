from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import create_engine
from adapters.persistence.tables import event_sessions, events
from platform_core.events.model import EventSession
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWorkFactory

from .support import NOW, Given, a_user, an_event, an_event_session

SQL_BACKENDS = ("sqlite", "postgres")
PLUS_FIVE = timezone(timedelta(hours=5, minutes=30))
HOUR = timedelta(hours=1)

# Ids on both sides of every byte's sign bit, so no engine may order them as
# signed numbers or by their text with hyphens in other places.
ORDERED_IDS = [
    UUID("00000000-0000-4000-8000-000000000001"),
    UUID("7fffffff-ffff-4fff-bfff-ffffffffffff"),
    UUID("80000000-0000-4000-8000-000000000000"),
    UUID("ffffffff-ffff-4fff-bfff-fffffffffffe"),
]


def every_field_set(event_id: UUID, **fields: Any) -> EventSession:
    """A session with no field left at its default, instants in two offsets."""
    values: dict[str, Any] = {
        "event_id": event_id,
        "title": "Day two: workshops, café and Q&A",
        "starts_at": (NOW + timedelta(days=7, hours=1)).astimezone(PLUS_FIVE),
        "ends_at": NOW + timedelta(days=7, hours=2, microseconds=1),
        "created_at": NOW - timedelta(days=1),
        "meeting_url": "https://zoom.us/j/81234567890?pwd=abc",
        "meeting_id": "81234567890",
        "updated_at": (NOW + timedelta(seconds=1)).astimezone(PLUS_FIVE),
    }
    return EventSession(**(values | fields))


async def stored(uow_factory: UnitOfWorkFactory, session_id: UUID) -> EventSession:
    async with uow_factory() as uow:
        found = await uow.event_sessions.get(session_id)
    assert found is not None
    return found


async def listed(uow_factory: UnitOfWorkFactory, event_id: UUID) -> list[EventSession]:
    async with uow_factory() as uow:
        return list(await uow.event_sessions.list_for_event(event_id))


class TestAdd:
    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = every_field_set(event.id)

        await given(organizer, event, session)

        found = await stored(uow_factory, session.id)
        assert found == session
        assert found.starts_at.utcoffset() is not None
        assert found.updated_at is not None
        assert found.updated_at.utcoffset() is not None

    async def test_defaults_survive_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = EventSession(
            event_id=event.id,
            title="Morning",
            starts_at=event.starts_at,
            ends_at=event.starts_at + HOUR,
            created_at=NOW,
        )

        await given(organizer, event, session)

        found = await stored(uow_factory, session.id)
        assert found == session
        assert (found.meeting_url, found.meeting_id, found.updated_at) == (
            None,
            None,
            None,
        )

    async def test_an_add_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)
        dropped = an_event_session(event)

        async with uow_factory() as uow:
            await uow.event_sessions.add(dropped)
            assert await uow.event_sessions.list_for_event(event.id) == [dropped]

        async with uow_factory() as uow:
            assert await uow.event_sessions.get(dropped.id) is None
            assert await uow.event_sessions.list_for_event(event.id) == []

    async def test_changing_an_added_session_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = an_event_session(event)
        original = replace(session)
        await given(organizer, event, session)

        session.title = "Renamed"

        assert await stored(uow_factory, session.id) == original


class TestGet:
    async def test_an_unknown_id_finds_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event, an_event_session(event))

        async with uow_factory() as uow:
            assert await uow.event_sessions.get(new_id()) is None
            assert await uow.event_sessions.get(event.id) is None

    async def test_changing_a_returned_session_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = an_event_session(event)
        await given(organizer, event, session)

        async with uow_factory() as uow:
            loaded = await uow.event_sessions.get(session.id)
            assert loaded is not None
            loaded.meeting_url = "https://example.org/elsewhere"
            await uow.commit()

        assert await stored(uow_factory, session.id) == session


class TestUpdate:
    async def test_update_replaces_every_stored_field(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event, other_event = an_event(organizer), an_event(organizer)
        session = an_event_session(event)
        await given(organizer, event, other_event, session)
        changed = every_field_set(other_event.id, id=session.id)

        async with uow_factory() as uow:
            await uow.event_sessions.update(changed)
            await uow.commit()

        assert await stored(uow_factory, session.id) == changed
        assert await listed(uow_factory, event.id) == []
        assert await listed(uow_factory, other_event.id) == [changed]

    async def test_an_update_rolled_back_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = an_event_session(event)
        await given(organizer, event, session)

        async with uow_factory() as uow:
            await uow.event_sessions.update(replace(session, title="Changed"))
            await uow.rollback()
            assert await uow.event_sessions.get(session.id) == session

        assert await stored(uow_factory, session.id) == session

    async def test_updating_an_unknown_session_raises_key_error(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)

        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.event_sessions.update(an_event_session(event))


class TestDelete:
    async def test_delete_removes_only_that_session(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        doomed = an_event_session(event)
        kept = an_event_session(event, starts_at=event.starts_at + HOUR)
        await given(organizer, event, doomed, kept)

        async with uow_factory() as uow:
            await uow.event_sessions.delete(doomed.id)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.event_sessions.get(doomed.id) is None
            assert await uow.event_sessions.list_for_event(event.id) == [kept]
            assert await uow.events.get(event.id) == event

    async def test_a_delete_rolled_back_keeps_the_session(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        session = an_event_session(event)
        await given(organizer, event, session)

        async with uow_factory() as uow:
            await uow.event_sessions.delete(session.id)
            await uow.rollback()

        assert await stored(uow_factory, session.id) == session

    async def test_deleting_an_unknown_session_raises_key_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.event_sessions.delete(new_id())


class TestListForEvent:
    async def test_lists_the_events_sessions_by_start_then_title(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event, other_event = an_event(organizer), an_event(organizer)
        start = event.starts_at
        # Titles compare by their bytes: capitals before small letters.
        late_b = an_event_session(event, title="B", starts_at=start + HOUR)
        early = an_event_session(event, title="Z", starts_at=start)
        late_capital_a = an_event_session(event, title="A", starts_at=start + HOUR)
        late_small_a = an_event_session(
            event, title="a", starts_at=(start + HOUR).astimezone(PLUS_FIVE)
        )
        theirs = an_event_session(other_event, starts_at=start)
        await given(
            organizer,
            event,
            other_event,
            late_b,
            early,
            late_small_a,
            late_capital_a,
            theirs,
        )

        assert await listed(uow_factory, event.id) == [
            early,
            late_capital_a,
            late_b,
            late_small_a,
        ]
        assert await listed(uow_factory, other_event.id) == [theirs]

    async def test_sessions_alike_in_start_and_title_are_ordered_by_id(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        added = [
            an_event_session(event, id=i, title="Workshop")
            for i in reversed(ORDERED_IDS)
        ]
        await given(organizer, event, *added)

        found = await listed(uow_factory, event.id)

        assert [s.id for s in found] == ORDERED_IDS

    async def test_an_event_without_sessions_lists_none(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        event = an_event(organizer)
        await given(organizer, event)

        assert await listed(uow_factory, event.id) == []
        assert await listed(uow_factory, new_id()) == []


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for reading and writing rows."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_a_deleted_event_row_takes_its_sessions_with_it(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        organizer = a_user()
        doomed, kept = an_event(organizer), an_event(organizer)
        kept_session = an_event_session(kept)
        await given(
            organizer,
            doomed,
            kept,
            an_event_session(doomed),
            an_event_session(doomed),
            kept_session,
        )

        async with engine.begin() as connection:
            await connection.execute(delete(events).where(events.c.id == doomed.id))
            remaining = await connection.execute(select(event_sessions.c.id))
            assert list(remaining.scalars()) == [kept_session.id]

    async def test_a_session_needs_an_existing_event(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        orphan = an_event_session(an_event(a_user()))

        async with uow_factory() as uow:
            with pytest.raises(IntegrityError):
                await uow.event_sessions.add(orphan)
