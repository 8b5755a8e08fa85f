from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import (
    UnreadablePlan,
    create_engine,
    sql_uow_factory,
    upgrade_database,
)
from adapters.persistence.tables import plans
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import Given, a_plan, in_parallel

SQL_BACKENDS = ("sqlite", "postgres")


@pytest.fixture
async def engine(database_url: str | None) -> AsyncIterator[AsyncEngine | None]:
    """A second engine on the backend's database, for reading and writing rows."""
    if database_url is None:
        yield None
        return
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def empty_catalogue(engine: AsyncEngine | None) -> None:
    """Removes the plans the migrations seeded, so every backend starts empty."""
    if engine is None:
        return
    async with engine.begin() as connection:
        await connection.execute(delete(plans))


async def saved(uow_factory: UnitOfWorkFactory, plan: Plan) -> bool:
    async with uow_factory() as uow:
        created = await uow.plans.upsert(plan)
        await uow.commit()
    return created


@pytest.mark.usefixtures("empty_catalogue")
class TestUpsert:
    async def test_new_plan_is_reported_as_created_and_reads_back_equal(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        plan = a_plan(is_public=False)

        assert await saved(uow_factory, plan)

        async with uow_factory() as uow:
            assert await uow.plans.get(plan.code) == plan

    async def test_existing_plan_is_replaced_whole_and_not_reported_as_created(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        original = a_plan()
        await given(original)
        replacement = a_plan(
            code=original.code,
            name="Renamed",
            prices=(Price(Interval.YEAR, 50000, "EUR"),),
            trial_days=30,
            capabilities=frozenset({Capability.LMS}),
            limits={Limit.COURSES: 4},
            is_public=False,
            sort_order=99,
        )

        assert not await saved(uow_factory, replacement)

        async with uow_factory() as uow:
            assert await uow.plans.get(original.code) == replacement
            assert await uow.plans.list() == [replacement]

    async def test_empty_collections_and_unlimited_limits_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        bare = a_plan(prices=(), capabilities=frozenset(), limits={})
        unlimited = a_plan(limits=dict.fromkeys(Limit))
        await given(bare, unlimited)

        async with uow_factory() as uow:
            assert await uow.plans.get(bare.code) == bare
            stored = await uow.plans.get(unlimited.code)
        assert stored == unlimited
        assert stored.limit(Limit.EVENTS_PER_PERIOD) is None

    async def test_uncommitted_upsert_is_discarded(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        plan = a_plan()

        async with uow_factory() as uow:
            await uow.plans.upsert(plan)

        async with uow_factory() as uow:
            assert await uow.plans.get(plan.code) is None

    async def test_of_twenty_concurrent_upserts_of_a_new_code_exactly_one_creates(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        contenders = [a_plan(code="contested", name=f"Take {n}") for n in range(20)]
        queue = iter(contenders)

        async def upsert(uow: UnitOfWork) -> bool:
            return await uow.plans.upsert(next(queue))

        outcomes = await in_parallel(uow_factory, 20, upsert)

        assert outcomes.count(True) == 1
        async with uow_factory() as uow:
            assert await uow.plans.get("contested") in contenders
            assert len(await uow.plans.list()) == 1

    async def test_concurrent_upserts_of_an_existing_code_all_replace(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        plan = a_plan()
        await given(plan)

        async def upsert(uow: UnitOfWork) -> bool:
            return await uow.plans.upsert(plan)

        outcomes = await in_parallel(uow_factory, 20, upsert)

        assert outcomes == [False] * 20


@pytest.mark.usefixtures("empty_catalogue")
class TestGet:
    async def test_unknown_code_finds_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await given(a_plan(code="known"))

        async with uow_factory() as uow:
            assert await uow.plans.get("unknown") is None


@pytest.mark.usefixtures("empty_catalogue")
class TestList:
    async def test_plans_are_ordered_by_sort_order_then_code_in_byte_order(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        last = a_plan(code="aaa", sort_order=30)
        first = a_plan(code="zzz", sort_order=-5)
        tied = [a_plan(code=code, sort_order=10) for code in ("planc", "plan_a")]
        dash = a_plan(code="plan-b", sort_order=10)
        await given(last, *tied, first, dash)

        async with uow_factory() as uow:
            listed = await uow.plans.list()

        assert [p.code for p in listed] == ["zzz", "plan-b", "plan_a", "planc", "aaa"]

    async def test_public_only_hides_plans_that_are_not_public(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        public = a_plan(sort_order=2)
        hidden = a_plan(sort_order=1, is_public=False)
        await given(public, hidden)

        async with uow_factory() as uow:
            assert await uow.plans.list(public_only=True) == [public]
            assert await uow.plans.list() == [hidden, public]

    async def test_empty_catalogue_lists_nothing(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        async with uow_factory() as uow:
            assert await uow.plans.list() == []
            assert await uow.plans.list(public_only=True) == []


async def stored_row(engine: AsyncEngine, code: str) -> dict[str, Any]:
    async with engine.connect() as connection:
        result = await connection.execute(select(plans).where(plans.c.code == code))
        return dict(result.mappings().one())


@pytest.mark.parametrize("backend", SQL_BACKENDS)
@pytest.mark.usefixtures("empty_catalogue")
class TestStoredRows:
    async def test_upsert_stamps_the_row_with_the_time_of_the_change(
        self, uow_factory: UnitOfWorkFactory, engine: AsyncEngine
    ) -> None:
        plan = a_plan()
        before = datetime.now(UTC)

        await saved(uow_factory, plan)
        created_at = (await stored_row(engine, plan.code))["updated_at"]
        await saved(uow_factory, plan)
        replaced_at = (await stored_row(engine, plan.code))["updated_at"]

        assert before <= created_at <= replaced_at <= datetime.now(UTC)

    async def test_capabilities_are_stored_sorted_and_limits_by_name(
        self, uow_factory: UnitOfWorkFactory, engine: AsyncEngine
    ) -> None:
        plan = a_plan(
            capabilities=frozenset(Capability),
            limits={Limit.COURSES: 2, Limit.CERTIFICATES_PER_PERIOD: None},
        )

        await saved(uow_factory, plan)

        row = await stored_row(engine, plan.code)
        assert row["capabilities"] == sorted(c.value for c in Capability)
        assert row["limits"] == {"certificates_per_period": None, "courses": 2}
        assert row["prices"] == [
            {"interval": "month", "amount": 1900, "currency": "USD"},
            {"interval": "year", "amount": 19000, "currency": "USD"},
        ]

    @pytest.mark.parametrize(
        ("column", "value", "named"),
        [
            ("capabilities", ["organizer", "teleport"], "'teleport'"),
            ("limits", {"events_per_period": 1, "seats": 9}, "'seats'"),
            ("limits", {"courses": "many"}, "'many'"),
            ("prices", [{"interval": "week", "amount": 1, "currency": "USD"}], "week"),
        ],
    )
    async def test_row_with_a_value_this_code_does_not_know_is_refused_by_name(
        self,
        uow_factory: UnitOfWorkFactory,
        engine: AsyncEngine,
        column: str,
        value: object,
        named: str,
    ) -> None:
        plan = a_plan(code="odd")
        await saved(uow_factory, plan)
        async with engine.begin() as connection:
            await connection.execute(
                plans.update().where(plans.c.code == "odd").values({column: value})
            )

        async with uow_factory() as uow:
            with pytest.raises(UnreadablePlan, match=named) as raised:
                await uow.plans.get("odd")
            with pytest.raises(UnreadablePlan):
                await uow.plans.list()
        assert raised.value.code == "odd"


SEEDED = [
    Plan(
        code="attendee",
        name="Attendee",
        prices=(Price(Interval.MONTH, 0, "USD"), Price(Interval.YEAR, 0, "USD")),
        trial_days=0,
        capabilities=frozenset(),
        limits={},
        is_public=True,
        sort_order=0,
    ),
    Plan(
        code="organizer",
        name="Organizer",
        prices=(
            Price(Interval.MONTH, 2900, "USD"),
            Price(Interval.YEAR, 29000, "USD"),
        ),
        trial_days=14,
        capabilities=frozenset(
            {
                Capability.ORGANIZER,
                Capability.CERTIFICATES,
                Capability.CUSTOM_FIELDS,
                Capability.PROMO_CODES,
                Capability.CONTACTS,
            }
        ),
        limits={
            Limit.EVENTS_PER_PERIOD: 5,
            Limit.REGISTRATIONS_PER_EVENT: 200,
            Limit.CERTIFICATES_PER_PERIOD: 500,
            Limit.COURSES: 0,
        },
        is_public=True,
        sort_order=10,
    ),
    Plan(
        code="organizer_pro",
        name="Organizer Pro",
        prices=(
            Price(Interval.MONTH, 7900, "USD"),
            Price(Interval.YEAR, 79000, "USD"),
        ),
        trial_days=14,
        capabilities=frozenset(
            {
                Capability.ORGANIZER,
                Capability.CERTIFICATES,
                Capability.CUSTOM_FIELDS,
                Capability.PROMO_CODES,
                Capability.CONTACTS,
                Capability.ZOOM,
                Capability.LMS,
            }
        ),
        limits={
            Limit.EVENTS_PER_PERIOD: 50,
            Limit.REGISTRATIONS_PER_EVENT: 2000,
            Limit.CERTIFICATES_PER_PERIOD: None,
            Limit.COURSES: 20,
        },
        is_public=True,
        sort_order=20,
    ),
]


@pytest.fixture
async def migrated_catalogue(empty_database_url: str) -> list[Plan]:
    """The plans of a database that was just migrated from nothing."""
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with sql_uow_factory(engine)() as uow:
            return list(await uow.plans.list())
    finally:
        await engine.dispose()


class TestSeededCatalogue:
    async def test_migrated_database_holds_exactly_the_initial_plans(
        self, migrated_catalogue: list[Plan]
    ) -> None:
        assert migrated_catalogue == SEEDED

    async def test_an_organizer_plan_allows_a_finite_number_of_events(
        self, migrated_catalogue: list[Plan]
    ) -> None:
        organizer_plans = [
            plan for plan in migrated_catalogue if plan.allows(Capability.ORGANIZER)
        ]

        assert any(
            plan.limit(Limit.EVENTS_PER_PERIOD) is not None for plan in organizer_plans
        )


class TestBoundsMigration:
    async def test_limits_and_orders_stored_before_the_bounds_are_brought_within(
        self, empty_database_url: str
    ) -> None:
        upgrade_database(empty_database_url, "0011")
        engine = create_engine(empty_database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    plans.update()
                    .where(plans.c.code == "organizer")
                    .values(
                        limits={
                            "events_per_period": 100000000000000000000,
                            "courses": None,
                            "registrations_per_event": 200,
                        },
                        sort_order=-(2**31),
                    )
                )

            upgrade_database(empty_database_url)

            async with sql_uow_factory(engine)() as uow:
                organizer = await uow.plans.get("organizer")
        finally:
            await engine.dispose()
        assert organizer is not None
        assert organizer.limits == {
            Limit.EVENTS_PER_PERIOD: 1_000_000_000,
            Limit.COURSES: None,
            Limit.REGISTRATIONS_PER_EVENT: 200,
        }
        assert organizer.sort_order == -1_000_000_000
