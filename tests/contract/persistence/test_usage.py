from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import create_engine
from adapters.persistence.tables import usage_counters, users
from platform_core.billing.model import Limit
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_user, in_parallel

SQL_BACKENDS = ("sqlite", "postgres")
EVENTS = Limit.EVENTS_PER_PERIOD
CERTIFICATES = Limit.CERTIFICATES_PER_PERIOD
PERIOD = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
NEXT_PERIOD = PERIOD.replace(month=PERIOD.month + 1)


async def consume(
    uow_factory: UnitOfWorkFactory,
    account_id: UUID,
    limit: int,
    *,
    name: Limit = EVENTS,
    period: datetime = PERIOD,
    times: int = 1,
) -> list[bool]:
    """Consumes `times` in one committed unit of work."""
    async with uow_factory() as uow:
        outcomes = [
            await uow.usage.consume(account_id, name, period, limit)
            for _ in range(times)
        ]
        await uow.commit()
    return outcomes


async def release(
    uow_factory: UnitOfWorkFactory,
    account_id: UUID,
    *,
    name: Limit = EVENTS,
    period: datetime = PERIOD,
) -> bool:
    async with uow_factory() as uow:
        released = await uow.usage.release(account_id, name, period)
        await uow.commit()
    return released


async def used(
    uow_factory: UnitOfWorkFactory, account_id: UUID, period: datetime = PERIOD
) -> dict[Limit, int]:
    async with uow_factory() as uow:
        return dict(await uow.usage.used(account_id, period))


class TestConsume:
    async def test_succeeds_up_to_the_limit_and_is_then_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)

        assert await consume(uow_factory, account.id, 3, times=5) == [
            True,
            True,
            True,
            False,
            False,
        ]
        assert await used(uow_factory, account.id) == {EVENTS: 3}

    async def test_a_lower_limit_refuses_what_a_higher_one_allowed(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        await consume(uow_factory, account.id, 5, times=3)

        assert await consume(uow_factory, account.id, 2) == [False]
        assert await consume(uow_factory, account.id, 4) == [True]
        assert await used(uow_factory, account.id) == {EVENTS: 4}

    async def test_a_limit_of_zero_refuses_and_counts_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)

        assert await consume(uow_factory, account.id, 0) == [False]
        assert await used(uow_factory, account.id) == {}

    async def test_counters_are_per_account_per_name_and_per_period(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account, other = a_user(), a_user()
        await given(account, other)
        await consume(uow_factory, account.id, 2, times=2)

        assert await consume(uow_factory, other.id, 2) == [True]
        assert await consume(uow_factory, account.id, 2, name=CERTIFICATES) == [True]
        assert await consume(uow_factory, account.id, 2, period=NEXT_PERIOD) == [True]
        assert await consume(uow_factory, account.id, 2) == [False]
        assert await used(uow_factory, account.id) == {EVENTS: 2, CERTIFICATES: 1}
        assert await used(uow_factory, account.id, NEXT_PERIOD) == {EVENTS: 1}
        assert await used(uow_factory, other.id) == {EVENTS: 1}

    async def test_the_same_instant_in_another_offset_is_the_same_period(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        elsewhere = PERIOD.astimezone(timezone(timedelta(hours=-5)))

        await consume(uow_factory, account.id, 2, period=elsewhere)

        assert await consume(uow_factory, account.id, 2) == [True]
        assert await consume(uow_factory, account.id, 2, period=elsewhere) == [False]
        assert await used(uow_factory, account.id, elsewhere) == {EVENTS: 2}

    async def test_uncommitted_consume_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)

        async with uow_factory() as uow:
            assert await uow.usage.consume(account.id, EVENTS, PERIOD, 1)

        assert await used(uow_factory, account.id) == {}
        assert await consume(uow_factory, account.id, 1) == [True]


class TestRelease:
    async def test_gives_one_use_back(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        await consume(uow_factory, account.id, 2, times=2)

        assert await release(uow_factory, account.id)
        assert await used(uow_factory, account.id) == {EVENTS: 1}
        assert await consume(uow_factory, account.id, 2) == [True]

    async def test_never_goes_below_zero(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        await consume(uow_factory, account.id, 5)

        assert await release(uow_factory, account.id)
        assert not await release(uow_factory, account.id)
        assert await used(uow_factory, account.id) == {EVENTS: 0}

    async def test_a_counter_never_used_has_nothing_to_give_back(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        await consume(uow_factory, account.id, 5, period=NEXT_PERIOD)

        assert not await release(uow_factory, account.id)
        assert not await release(uow_factory, account.id, name=CERTIFICATES)
        assert await used(uow_factory, account.id) == {}
        assert await used(uow_factory, account.id, NEXT_PERIOD) == {EVENTS: 1}


class TestUsed:
    async def test_reports_every_counter_of_the_period_and_nothing_else(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        await consume(uow_factory, account.id, 9, times=4)
        await consume(uow_factory, account.id, 9, name=Limit.COURSES, times=2)
        await consume(uow_factory, account.id, 9, period=NEXT_PERIOD)

        assert await used(uow_factory, account.id) == {EVENTS: 4, Limit.COURSES: 2}
        assert await used(uow_factory, account.id, PERIOD - timedelta(days=31)) == {}


class TestConcurrentConsumers:
    @pytest.mark.parametrize("counter", ["existing", "new"])
    async def test_of_fifty_concurrent_consumers_of_ten_exactly_ten_succeed(
        self, uow_factory: UnitOfWorkFactory, given: Given, counter: str
    ) -> None:
        account = a_user()
        await given(account)
        if counter == "existing":
            await consume(uow_factory, account.id, 10)
            await release(uow_factory, account.id)

        async def one(uow: UnitOfWork) -> bool:
            return await uow.usage.consume(account.id, EVENTS, PERIOD, 10)

        outcomes = await in_parallel(uow_factory, 50, one)

        assert outcomes.count(True) == 10
        assert await used(uow_factory, account.id) == {EVENTS: 10}

    async def test_concurrent_releases_stop_at_zero(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        await consume(uow_factory, account.id, 10, times=5)

        async def one(uow: UnitOfWork) -> bool:
            return await uow.usage.release(account.id, EVENTS, PERIOD)

        outcomes = await in_parallel(uow_factory, 20, one)

        assert outcomes.count(True) == 5
        assert await used(uow_factory, account.id) == {EVENTS: 0}


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for reading and writing rows."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_a_deleted_account_takes_its_counters_with_it(
        self, uow_factory: UnitOfWorkFactory, given: Given, engine: AsyncEngine
    ) -> None:
        account, other = a_user(), a_user()
        await given(account, other)
        await consume(uow_factory, account.id, 3)
        await consume(uow_factory, other.id, 3)

        async with engine.begin() as connection:
            await connection.execute(delete(users).where(users.c.id == account.id))
            remaining = await connection.execute(
                select(usage_counters.c.account_id, func.count()).group_by(
                    usage_counters.c.account_id
                )
            )
            assert [tuple(row) for row in remaining] == [(other.id, 1)]
