from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import create_engine
from adapters.persistence.tables import notifications, users
from platform_core.notifications.model import Notification
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_notification, a_user, an_audit_record, in_parallel

SQL_BACKENDS = ("sqlite", "postgres")


async def added(uow_factory: UnitOfWorkFactory, notification: Notification) -> bool:
    """Adds one notification in its own committed unit of work."""
    async with uow_factory() as uow:
        stored = await uow.notifications.add(notification)
        await uow.commit()
    return stored


async def listed(
    uow_factory: UnitOfWorkFactory, user_id: UUID, *, limit: int = 50, offset: int = 0
) -> list[Notification]:
    async with uow_factory() as uow:
        found = await uow.notifications.list_for_user(
            user_id, limit=limit, offset=offset
        )
    return list(found)


class TestAdd:
    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        unread = a_notification(user, created_at=NOW - timedelta(minutes=1))
        read = a_notification(
            user,
            kind="billing.payment_failed",
            title="Payment failed",
            body="Your card was declined.\nPlease update it.",
            dedupe_key="billing.payment_failed:in_1",
            read_at=NOW + timedelta(microseconds=1),
        )

        assert await added(uow_factory, unread)
        assert await added(uow_factory, read)

        assert await listed(uow_factory, user.id) == [read, unread]

    async def test_an_existing_dedupe_key_stores_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, other = a_user(), a_user()
        first = a_notification(user, dedupe_key="trial_ending:sub_1")
        await given(user, other, first)

        assert not await added(
            uow_factory,
            a_notification(user, title="Again", dedupe_key="trial_ending:sub_1"),
        )
        assert not await added(
            uow_factory, a_notification(other, dedupe_key="trial_ending:sub_1")
        )

        assert await listed(uow_factory, user.id) == [first]
        assert await listed(uow_factory, other.id) == []

    async def test_a_repeat_within_one_unit_of_work_stores_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        first = a_notification(user, dedupe_key="k")

        async with uow_factory() as uow:
            assert await uow.notifications.add(first)
            assert not await uow.notifications.add(a_notification(user, dedupe_key="k"))
            await uow.commit()

        assert await listed(uow_factory, user.id) == [first]

    async def test_the_unit_of_work_stays_usable_after_a_repeat(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user, a_notification(user, dedupe_key="k"))
        other = a_notification(user, dedupe_key="other")

        async with uow_factory() as uow:
            assert not await uow.notifications.add(a_notification(user, dedupe_key="k"))
            assert await uow.notifications.add(other)
            await uow.audit.add(an_audit_record("billing.trial.ending"))
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.audit.count(action="billing.trial.ending") == 1
        assert other in await listed(uow_factory, user.id)

    async def test_an_add_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        notification = a_notification(user, dedupe_key="k")

        async with uow_factory() as uow:
            assert await uow.notifications.add(notification)
            assert await uow.notifications.list_for_user(user.id, limit=5) == [
                notification
            ]

        assert await listed(uow_factory, user.id) == []
        assert await added(uow_factory, notification)

    async def test_of_concurrent_adds_with_one_dedupe_key_exactly_one_is_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)

        async def one(uow: UnitOfWork) -> bool:
            return await uow.notifications.add(a_notification(user, dedupe_key="rush"))

        outcomes = await in_parallel(uow_factory, 20, one)

        assert outcomes.count(True) == 1
        assert len(await listed(uow_factory, user.id)) == 1


class TestListForUser:
    async def test_lists_only_the_users_notifications_newest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, other = a_user(), a_user()
        old = a_notification(user, created_at=NOW - timedelta(days=2))
        new = a_notification(user, created_at=NOW + timedelta(seconds=1))
        middle = a_notification(user, created_at=NOW)
        theirs = a_notification(other, created_at=NOW - timedelta(days=1))

        await given(user, other, old, new, middle, theirs)

        assert await listed(uow_factory, user.id) == [new, middle, old]
        assert await listed(uow_factory, other.id) == [theirs]
        assert await listed(uow_factory, new_id()) == []

    async def test_limit_and_offset_page_through_them(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        made = [
            a_notification(user, created_at=NOW + timedelta(minutes=m))
            for m in range(5)
        ]
        await given(user, *made)
        newest_first = list(reversed(made))

        assert await listed(uow_factory, user.id, limit=2) == newest_first[:2]
        assert (
            await listed(uow_factory, user.id, limit=2, offset=2) == (newest_first[2:4])
        )
        assert (
            await listed(uow_factory, user.id, limit=2, offset=4) == (newest_first[4:])
        )
        assert await listed(uow_factory, user.id, limit=2, offset=5) == []

    async def test_notifications_of_one_instant_page_without_repeats_or_gaps(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        made = [a_notification(user, created_at=NOW) for _ in range(7)]
        await given(user, *made)

        everything = await listed(uow_factory, user.id)
        pages = [
            await listed(uow_factory, user.id, limit=3, offset=offset)
            for offset in (0, 3, 6)
        ]

        assert sorted(n.dedupe_key for n in everything) == sorted(
            n.dedupe_key for n in made
        )
        assert [n for page in pages for n in page] == everything


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for reading and writing rows."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_a_deleted_user_takes_their_notifications_with_them(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        user, other = a_user(), a_user()
        kept = a_notification(other)
        await given(user, other, a_notification(user), a_notification(user), kept)

        async with engine.begin() as connection:
            await connection.execute(delete(users).where(users.c.id == user.id))
            remaining = await connection.execute(select(notifications.c.id))
            assert list(remaining.scalars()) == [kept.id]


class TestReading:
    async def test_the_unread_filter_and_counts(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, other = a_user(), a_user()
        read = a_notification(user, created_at=NOW, read_at=NOW)
        unread = [
            a_notification(user, created_at=NOW + timedelta(minutes=m)) for m in (1, 2)
        ]
        theirs = a_notification(other)
        await given(user, other, read, *unread, theirs)

        async with uow_factory() as uow:
            repository = uow.notifications
            only_unread = await repository.list_for_user(user.id, limit=10, unread=True)
            only_read = await repository.list_for_user(user.id, limit=10, unread=False)
            counts = [
                await repository.count_for_user(user.id, unread=unread_only)
                for unread_only in (None, True, False)
            ]
            second_page = await repository.list_for_user(
                user.id, limit=1, offset=1, unread=True
            )

        assert only_unread == [unread[1], unread[0]]
        assert only_read == [read]
        assert counts == [3, 2, 1]
        assert second_page == [unread[0]]

    async def test_get_finds_by_id_only(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        notification = a_notification(user)
        await given(user, notification)

        async with uow_factory() as uow:
            assert await uow.notifications.get(notification.id) == notification
            assert await uow.notifications.get(new_id()) is None


class TestMarkingRead:
    async def test_marking_read_happens_once_and_keeps_the_first_instant(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        notification = a_notification(user)
        await given(user, notification)
        later = NOW + timedelta(hours=1)

        async with uow_factory() as uow:
            first = await uow.notifications.mark_read(notification.id, NOW)
            again = await uow.notifications.mark_read(notification.id, later)
            unknown = await uow.notifications.mark_read(new_id(), NOW)
            await uow.commit()

        assert (first, again, unknown) == (True, False, False)
        async with uow_factory() as uow:
            stored = await uow.notifications.get(notification.id)
        assert stored is not None
        assert stored.read_at == NOW

    async def test_marking_all_read_touches_only_the_users_unread_ones(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user, other = a_user(), a_user()
        earlier = NOW - timedelta(days=1)
        already = a_notification(user, read_at=earlier)
        fresh = [a_notification(user) for _ in range(3)]
        theirs = a_notification(other)
        await given(user, other, already, *fresh, theirs)

        async with uow_factory() as uow:
            marked = await uow.notifications.mark_all_read(user.id, NOW)
            await uow.commit()

        assert marked == 3
        async with uow_factory() as uow:
            mine = await uow.notifications.list_for_user(user.id, limit=10)
            left = await uow.notifications.count_for_user(other.id, unread=True)
        assert sorted(n.read_at == NOW for n in mine) == [False, True, True, True]
        assert next(n for n in mine if n.id == already.id).read_at == earlier
        assert left == 1

    async def test_marking_read_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        notification = a_notification(user)
        await given(user, notification)

        async with uow_factory() as uow:
            assert await uow.notifications.mark_all_read(user.id, NOW) == 1

        async with uow_factory() as uow:
            assert await uow.notifications.count_for_user(user.id, unread=True) == 1
