from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import create_engine
from adapters.persistence.tables import billing_customers, users
from platform_core.billing.subscription import BillingCustomer, Provider
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_customer, a_user, in_parallel

SQL_BACKENDS = ("sqlite", "postgres")


async def saved(uow_factory: UnitOfWorkFactory, customer: BillingCustomer) -> None:
    async with uow_factory() as uow:
        await uow.billing_customers.save(customer)
        await uow.commit()


class TestWithProvider:
    async def test_pages_through_one_providers_customers_by_account_id(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        accounts = [a_user() for _ in range(5)]
        customers = [
            a_customer(account, provider=provider)
            for account, provider in zip(
                accounts,
                [Provider.STRIPE, Provider.LOCAL, Provider.STRIPE]
                + [Provider.STRIPE] * 2,
                strict=True,
            )
        ]
        await given(*accounts, *customers)
        at_stripe = sorted(
            (c for c in customers if c.provider is Provider.STRIPE),
            key=lambda c: c.account_id,
        )

        async with uow_factory() as uow:
            first = await uow.billing_customers.with_provider(
                Provider.STRIPE, after=None, limit=3
            )
            rest = await uow.billing_customers.with_provider(
                Provider.STRIPE, after=first[-1].account_id, limit=3
            )
            local = await uow.billing_customers.with_provider(
                Provider.LOCAL, after=None, limit=3
            )

        assert [*first, *rest] == at_stripe
        assert len(first) == 3
        assert local == [customers[1]]


class TestSave:
    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        customer = a_customer(
            account,
            provider=Provider.LOCAL,
            customer_ref="cus_Ada",
            default_payment_method="pm_card_visa",
        )

        await given(account, customer)

        async with uow_factory() as uow:
            assert await uow.billing_customers.get(account.id) == customer
            assert await uow.billing_customers.get_by_ref("cus_Ada") == customer

    async def test_a_missing_payment_method_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        customer = a_customer(account)

        await given(account, customer)

        async with uow_factory() as uow:
            found = await uow.billing_customers.get(account.id)
        assert found == customer
        assert found is not None
        assert found.default_payment_method is None
        assert found.provider is Provider.STRIPE

    async def test_saving_again_replaces_the_accounts_record(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        first = a_customer(account, customer_ref="cus_old")
        await given(account, first)
        second = replace(
            first,
            provider=Provider.LOCAL,
            customer_ref="cus_new",
            created_at=NOW.replace(year=2032),
            default_payment_method="pm_1",
        )

        await saved(uow_factory, second)

        async with uow_factory() as uow:
            assert await uow.billing_customers.get(account.id) == second
            assert await uow.billing_customers.get_by_ref("cus_new") == second
            assert await uow.billing_customers.get_by_ref("cus_old") is None

    async def test_saving_again_can_clear_the_payment_method(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        customer = a_customer(account, default_payment_method="pm_1")
        await given(account, customer)
        cleared = replace(customer, default_payment_method=None)

        await saved(uow_factory, cleared)

        async with uow_factory() as uow:
            assert await uow.billing_customers.get(account.id) == cleared

    async def test_records_are_per_account(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account, other = a_user(), a_user()
        mine, theirs = a_customer(account), a_customer(other)

        await given(account, other, mine, theirs)

        async with uow_factory() as uow:
            assert await uow.billing_customers.get(account.id) == mine
            assert await uow.billing_customers.get(other.id) == theirs
            assert await uow.billing_customers.get_by_ref(theirs.customer_ref) == theirs

    async def test_a_save_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        kept = a_customer(account, customer_ref="cus_kept")
        await given(account, kept)

        async with uow_factory() as uow:
            await uow.billing_customers.save(replace(kept, customer_ref="cus_gone"))
            assert await uow.billing_customers.get_by_ref("cus_gone") is not None

        async with uow_factory() as uow:
            assert await uow.billing_customers.get(account.id) == kept
            assert await uow.billing_customers.get_by_ref("cus_gone") is None

    async def test_of_concurrent_saves_of_one_account_one_record_remains(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        candidates = [a_customer(account) for _ in range(10)]
        pending = iter(candidates)

        async def save(uow: UnitOfWork) -> None:
            await uow.billing_customers.save(next(pending))

        await in_parallel(uow_factory, len(candidates), save)

        async with uow_factory() as uow:
            found = await uow.billing_customers.get(account.id)
            by_ref = [
                await uow.billing_customers.get_by_ref(c.customer_ref)
                for c in candidates
            ]
        assert found in candidates
        assert [c for c in by_ref if c is not None] == [found]


class TestGet:
    async def test_unknown_account_and_unknown_ref_find_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account, a_customer(account, customer_ref="cus_Ada"))

        async with uow_factory() as uow:
            assert await uow.billing_customers.get(new_id()) is None
            assert await uow.billing_customers.get_by_ref("cus_ada") is None


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for reading and writing rows."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_the_provider_is_stored_as_its_value(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        account = a_user()
        await given(account, a_customer(account, provider=Provider.LOCAL))

        async with engine.connect() as connection:
            provider = await connection.scalar(select(billing_customers.c.provider))

        assert provider == "local"

    async def test_a_deleted_account_takes_its_customer_record_with_it(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        account, other = a_user(), a_user()
        await given(account, other, a_customer(account), a_customer(other))

        async with engine.begin() as connection:
            await connection.execute(delete(users).where(users.c.id == account.id))
            remaining = await connection.execute(select(billing_customers.c.account_id))
            assert list(remaining.scalars()) == [other.id]
