"""The seat counter of events, on every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from platform_core.events.model import Event
from platform_core.shared.errors import NotFound
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import Given, a_user, an_event, in_parallel


@pytest.fixture
async def event(given: Given) -> Event:
    organizer = a_user()
    event = an_event(organizer, capacity=3)
    await given(organizer, event)
    return event


async def taken(uow_factory: UnitOfWorkFactory, event: Event) -> int:
    async with uow_factory() as uow:
        return await uow.event_seats.taken(event.id)


class TestTake:
    async def test_an_unused_counter_has_no_seat_taken(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        assert await taken(uow_factory, event) == 0

    async def test_seats_are_taken_up_to_the_capacity_and_no_further(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            results = [await uow.event_seats.take(event.id) for _ in range(5)]
            await uow.commit()

        assert results == [True, True, True, False, False]
        assert await taken(uow_factory, event) == 3

    async def test_ignoring_capacity_takes_a_seat_beyond_it(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            for _ in range(3):
                await uow.event_seats.take(event.id)
            extra = await uow.event_seats.take(event.id, ignore_capacity=True)
            await uow.commit()

        assert extra is True
        assert await taken(uow_factory, event) == 4

    async def test_an_event_without_capacity_has_unlimited_seats(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        organizer = a_user()
        unlimited = an_event(organizer, capacity=None)
        await given(organizer, unlimited)

        async with uow_factory() as uow:
            results = [await uow.event_seats.take(unlimited.id) for _ in range(20)]
            await uow.commit()

        assert all(results)
        assert await taken(uow_factory, unlimited) == 20

    async def test_the_capacity_is_read_when_the_seat_is_taken(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            for _ in range(3):
                await uow.event_seats.take(event.id)
            await uow.events.update(replace(event, capacity=4))
            fourth = await uow.event_seats.take(event.id)
            fifth = await uow.event_seats.take(event.id)
            await uow.commit()

        assert (fourth, fifth) == (True, False)

    async def test_concurrent_takers_never_exceed_the_capacity(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async def take(uow: UnitOfWork) -> bool:
            return await uow.event_seats.take(event.id)

        results = await in_parallel(uow_factory, 12, take)

        assert results.count(True) == 3
        assert await taken(uow_factory, event) == 3

    async def test_a_rolled_back_take_gives_nothing_away(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            await uow.event_seats.take(event.id)
            await uow.rollback()

        assert await taken(uow_factory, event) == 0


class TestRelease:
    async def test_a_released_seat_can_be_taken_again(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            for _ in range(3):
                await uow.event_seats.take(event.id)
            released = await uow.event_seats.release(event.id)
            again = await uow.event_seats.take(event.id)
            await uow.commit()

        assert (released, again) == (True, True)
        assert await taken(uow_factory, event) == 3

    async def test_releasing_never_goes_below_zero(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            await uow.event_seats.lock(event.id)
            released = await uow.event_seats.release(event.id)
            await uow.commit()

        assert released is False
        assert await taken(uow_factory, event) == 0


class TestArrivals:
    async def test_arrival_numbers_count_up_from_one_per_event(
        self, uow_factory: UnitOfWorkFactory, event: Event, given: Given
    ) -> None:
        other = an_event(a_user(id=event.organizer_id))
        await given(other)

        async with uow_factory() as uow:
            first = [await uow.event_seats.next_arrival(event.id) for _ in range(3)]
            elsewhere = await uow.event_seats.next_arrival(other.id)
            await uow.commit()

        assert first == [1, 2, 3]
        assert elsewhere == 1

    async def test_concurrent_arrivals_get_distinct_numbers(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async def arrive(uow: UnitOfWork) -> int:
            return await uow.event_seats.next_arrival(event.id)

        numbers = await in_parallel(uow_factory, 15, arrive)

        assert sorted(numbers) == list(range(1, 16))


class TestDeletedEvent:
    async def test_the_counter_of_an_event_that_is_gone_is_not_found(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            await uow.events.delete(event.id)
            await uow.commit()

        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.event_seats.lock(event.id)
        async with uow_factory() as uow:
            with pytest.raises(NotFound):
                await uow.event_seats.next_arrival(event.id)
