from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import create_engine
from adapters.persistence.tables import gateway_events
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, an_audit_record, in_parallel

SQL_BACKENDS = ("sqlite", "postgres")


async def record(
    uow_factory: UnitOfWorkFactory,
    event_id: str,
    event_type: str = "invoice.paid",
) -> bool:
    """Records one event in its own committed unit of work."""
    async with uow_factory() as uow:
        recorded = await uow.gateway_events.record(event_id, event_type, NOW)
        await uow.commit()
    return recorded


class TestRecord:
    async def test_an_event_is_new_once_then_already_recorded(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        assert await record(uow_factory, "evt_1")
        assert not await record(uow_factory, "evt_1")
        assert not await record(uow_factory, "evt_1", "customer.subscription.updated")

    async def test_a_repeat_within_one_unit_of_work_is_already_recorded(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            assert await uow.gateway_events.record("evt_1", "invoice.paid", NOW)
            assert not await uow.gateway_events.record("evt_1", "invoice.paid", NOW)

    async def test_events_are_told_apart_by_their_exact_id(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        assert await record(uow_factory, "evt_1")
        assert await record(uow_factory, "evt_2")
        assert await record(uow_factory, "EVT_1")
        assert await record(uow_factory, "evt_1 ")

    async def test_the_unit_of_work_stays_usable_after_a_repeat(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        await record(uow_factory, "evt_1")

        async with uow_factory() as uow:
            assert not await uow.gateway_events.record("evt_1", "invoice.paid", NOW)
            assert await uow.gateway_events.record("evt_2", "invoice.paid", NOW)
            await uow.audit.add(an_audit_record("billing.event.applied"))
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.audit.count(action="billing.event.applied") == 1
        assert not await record(uow_factory, "evt_2")

    async def test_a_record_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            assert await uow.gateway_events.record("evt_1", "invoice.paid", NOW)

        async with uow_factory() as uow:
            assert await uow.gateway_events.record("evt_1", "invoice.paid", NOW)
            await uow.rollback()
            assert await uow.gateway_events.record("evt_1", "invoice.paid", NOW)
            await uow.commit()

        assert not await record(uow_factory, "evt_1")


class TestConcurrentDeliveries:
    async def test_of_twenty_concurrent_records_of_one_event_exactly_one_wins(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async def one(uow: UnitOfWork) -> bool:
            return await uow.gateway_events.record("evt_rush", "invoice.paid", NOW)

        outcomes = await in_parallel(uow_factory, 20, one)

        assert outcomes.count(True) == 1
        assert not await record(uow_factory, "evt_rush")

    async def test_concurrent_records_of_different_events_all_win(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        ids = iter(f"evt_{n}" for n in range(20))

        async def one(uow: UnitOfWork) -> bool:
            return await uow.gateway_events.record(next(ids), "invoice.paid", NOW)

        outcomes = await in_parallel(uow_factory, 20, one)

        assert outcomes == [True] * 20


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for reading rows."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_the_first_record_of_an_event_is_kept(
        self, uow_factory: UnitOfWorkFactory, engine: AsyncEngine
    ) -> None:
        async with uow_factory() as uow:
            await uow.gateway_events.record("evt_1", "invoice.paid", NOW)
            await uow.gateway_events.record(
                "evt_1", "invoice.payment_failed", NOW + timedelta(hours=1)
            )
            await uow.commit()

        async with engine.connect() as connection:
            rows = (await connection.execute(select(gateway_events))).all()

        assert [tuple(row) for row in rows] == [("evt_1", "invoice.paid", NOW)]
