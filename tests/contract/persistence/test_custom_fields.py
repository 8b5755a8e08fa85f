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
from adapters.persistence.tables import event_custom_fields, events
from platform_core.events.fields import CustomField, FieldType, RequiredIf, Scalar
from platform_core.events.model import Event
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWorkFactory

from .support import NOW, Given, a_user, an_event

SQL_BACKENDS = ("sqlite", "postgres")
PLUS_FIVE = timezone(timedelta(hours=5, minutes=30))

ORDERED_IDS = [
    UUID("00000000-0000-4000-8000-000000000001"),
    UUID("7fffffff-ffff-4fff-bfff-ffffffffffff"),
    UUID("80000000-0000-4000-8000-000000000000"),
    UUID("ffffffff-ffff-4fff-bfff-fffffffffffe"),
]


def a_field(event: Event, **fields: Any) -> CustomField:
    defaults: dict[str, Any] = {
        "event_id": event.id,
        "label": "Job title",
        "field_type": FieldType.SHORT_TEXT,
        "created_at": NOW,
    }
    return CustomField(**(defaults | fields))


def every_field_set(event_id: UUID, **fields: Any) -> CustomField:
    """A field with nothing left at its default, instants in two offsets."""
    values: dict[str, Any] = {
        "event_id": event_id,
        "label": "Dietary needs — café menu",
        "field_type": FieldType.MULTIPLE_CHOICE,
        "created_at": (NOW - timedelta(days=1)).astimezone(PLUS_FIVE),
        "required": True,
        "help_text": "Tick all that apply.\nWe tell the caterer.",
        "options": ("Végétarien", "Vegan", "No nuts"),
        "order": 7,
        "required_if": RequiredIf(new_id(), "Yes"),
        "archived_at": NOW + timedelta(microseconds=1),
        "updated_at": (NOW + timedelta(seconds=1)).astimezone(PLUS_FIVE),
    }
    return CustomField(**(values | fields))


async def add_fields(uow_factory: UnitOfWorkFactory, *items: CustomField) -> None:
    async with uow_factory() as uow:
        for item in items:
            await uow.custom_fields.add(item)
        await uow.commit()


async def stored(uow_factory: UnitOfWorkFactory, field_id: UUID) -> CustomField:
    async with uow_factory() as uow:
        found = await uow.custom_fields.get(field_id)
    assert found is not None
    return found


async def listed(
    uow_factory: UnitOfWorkFactory, event_id: UUID, *, include_archived: bool = False
) -> list[CustomField]:
    async with uow_factory() as uow:
        return list(
            await uow.custom_fields.list_for_event(
                event_id, include_archived=include_archived
            )
        )


async def a_sibling(given: Given, event: Event) -> Event:
    """Another stored event of the same organizer."""
    sibling = an_event(a_user(id=event.organizer_id))
    await given(sibling)
    return sibling


@pytest.fixture
async def event(uow_factory: UnitOfWorkFactory, given: Given) -> Event:
    organizer = a_user()
    event = an_event(organizer)
    await given(organizer, event)
    return event


class TestAdd:
    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        item = every_field_set(event.id)

        await add_fields(uow_factory, item)

        found = await stored(uow_factory, item.id)
        assert found == item
        assert found.created_at.utcoffset() is not None
        assert found.archived_at is not None
        assert found.archived_at.utcoffset() is not None

    @pytest.mark.parametrize("equals", ["Yes", 3, 2.5, True, False])
    async def test_the_value_of_a_condition_keeps_its_json_type(
        self, uow_factory: UnitOfWorkFactory, event: Event, equals: Scalar
    ) -> None:
        item = a_field(event, required_if=RequiredIf(new_id(), equals))

        await add_fields(uow_factory, item)

        rule = (await stored(uow_factory, item.id)).required_if
        assert rule is not None
        assert rule.equals == equals
        assert type(rule.equals) is type(equals)

    async def test_defaults_survive_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        item = a_field(event)

        await add_fields(uow_factory, item)

        found = await stored(uow_factory, item.id)
        assert found == item
        assert (found.options, found.required_if, found.archived_at) == ((), None, None)
        assert not found.is_archived

    async def test_an_add_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        dropped = a_field(event)

        async with uow_factory() as uow:
            await uow.custom_fields.add(dropped)
            assert await uow.custom_fields.list_for_event(event.id) == [dropped]

        async with uow_factory() as uow:
            assert await uow.custom_fields.get(dropped.id) is None

    async def test_changing_an_added_field_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        item = a_field(event)
        original = replace(item)
        await add_fields(uow_factory, item)

        item.label = "Renamed"

        assert await stored(uow_factory, item.id) == original


class TestGet:
    async def test_an_unknown_id_finds_nothing(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        await add_fields(uow_factory, a_field(event))

        async with uow_factory() as uow:
            assert await uow.custom_fields.get(new_id()) is None
            assert await uow.custom_fields.get(event.id) is None

    async def test_changing_a_returned_field_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        item = a_field(event)
        await add_fields(uow_factory, item)

        async with uow_factory() as uow:
            loaded = await uow.custom_fields.get(item.id)
            assert loaded is not None
            loaded.order = 99
            await uow.commit()

        assert await stored(uow_factory, item.id) == item


class TestUpdate:
    async def test_update_replaces_every_stored_field(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        item = a_field(event)
        await add_fields(uow_factory, item)
        changed = every_field_set(event.id, id=item.id)

        async with uow_factory() as uow:
            await uow.custom_fields.update(changed)
            await uow.commit()

        assert await stored(uow_factory, item.id) == changed

    async def test_an_update_rolled_back_is_discarded(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        item = a_field(event)
        await add_fields(uow_factory, item)

        async with uow_factory() as uow:
            await uow.custom_fields.update(replace(item, label="Changed"))
            await uow.rollback()
            assert await uow.custom_fields.get(item.id) == item

        assert await stored(uow_factory, item.id) == item

    async def test_updating_an_unknown_field_raises_key_error(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.custom_fields.update(a_field(event))


class TestDelete:
    async def test_delete_removes_only_that_field(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        doomed, kept = a_field(event), a_field(event, order=1)
        await add_fields(uow_factory, doomed, kept)

        async with uow_factory() as uow:
            await uow.custom_fields.delete(doomed.id)
            await uow.commit()

        assert await listed(uow_factory, event.id, include_archived=True) == [kept]

    async def test_deleting_an_unknown_field_raises_key_error(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.custom_fields.delete(new_id())

    async def test_deleting_the_event_deletes_its_fields(
        self, uow_factory: UnitOfWorkFactory, given: Given, event: Event
    ) -> None:
        organizer = a_user()
        other = an_event(organizer)
        await given(organizer, other)
        theirs = a_field(other)
        await add_fields(uow_factory, a_field(event), a_field(event), theirs)

        async with uow_factory() as uow:
            await uow.events.delete(event.id)
            await uow.commit()

        assert await listed(uow_factory, event.id, include_archived=True) == []
        assert await listed(uow_factory, other.id) == [theirs]


class TestListForEvent:
    async def test_lists_active_fields_by_order_then_creation(
        self, uow_factory: UnitOfWorkFactory, given: Given, event: Event
    ) -> None:
        other = await a_sibling(given, event)
        second = a_field(event, order=2)
        first_later = a_field(event, order=1, created_at=NOW + timedelta(seconds=1))
        first = a_field(event, order=1, created_at=NOW.astimezone(PLUS_FIVE))
        zero = a_field(event, order=0)
        archived = a_field(event, order=0, archived_at=NOW)
        theirs = a_field(other, order=0)
        await add_fields(
            uow_factory, second, first_later, first, archived, zero, theirs
        )

        assert await listed(uow_factory, event.id) == [zero, first, first_later, second]
        assert await listed(uow_factory, other.id) == [theirs]

    async def test_archived_fields_are_listed_only_when_asked(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        active = a_field(event, order=1)
        archived = a_field(event, order=0, archived_at=NOW)
        await add_fields(uow_factory, active, archived)

        assert await listed(uow_factory, event.id) == [active]
        assert await listed(uow_factory, event.id, include_archived=True) == [
            archived,
            active,
        ]

    async def test_fields_alike_in_order_and_creation_are_ordered_by_id(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        await add_fields(
            uow_factory, *(a_field(event, id=i) for i in reversed(ORDERED_IDS))
        )

        assert [f.id for f in await listed(uow_factory, event.id)] == ORDERED_IDS

    async def test_an_event_without_fields_lists_none(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
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
    async def test_a_deleted_event_row_takes_its_fields_with_it(
        self,
        uow_factory: UnitOfWorkFactory,
        given: Given,
        engine: AsyncEngine,
        event: Event,
    ) -> None:
        kept = await a_sibling(given, event)
        kept_field = a_field(kept)
        await add_fields(uow_factory, a_field(event), a_field(event), kept_field)

        async with engine.begin() as connection:
            await connection.execute(delete(events).where(events.c.id == event.id))
            remaining = await connection.execute(select(event_custom_fields.c.id))
            assert list(remaining.scalars()) == [kept_field.id]

    async def test_a_field_needs_an_existing_event(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        orphan = a_field(an_event(a_user()))

        async with uow_factory() as uow:
            with pytest.raises(IntegrityError):
                await uow.custom_fields.add(orphan)
