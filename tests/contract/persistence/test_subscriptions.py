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
from adapters.persistence.tables import subscriptions, users
from platform_core.billing.model import Interval
from platform_core.billing.ports import DuplicateSubscription
from platform_core.billing.subscription import (
    Provider,
    Subscription,
    SubscriptionStatus,
)
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_subscription, a_user, an_audit_record, in_parallel

SQL_BACKENDS = ("sqlite", "postgres")
ENDED = NOW - timedelta(days=40)
PLUS_FIVE = timezone(timedelta(hours=5, minutes=30))


def every_field_set(account_id: UUID, **fields: Any) -> Subscription:
    """A subscription with no field left at its default, instants in two offsets."""
    values: dict[str, Any] = {
        "account_id": account_id,
        "plan_code": "organizer_pro",
        "status": SubscriptionStatus.PAST_DUE,
        "interval": Interval.YEAR,
        "provider": Provider.STRIPE,
        "current_period_start": NOW - timedelta(days=3),
        "current_period_end": (NOW + timedelta(days=362)).astimezone(PLUS_FIVE),
        "billing_anchor": NOW - timedelta(days=3, microseconds=1),
        "created_at": NOW - timedelta(days=10),
        "trial_end": NOW - timedelta(days=3),
        "cancel_at_period_end": True,
        "canceled_at": NOW.astimezone(PLUS_FIVE),
        "ended_at": None,
        "customer_ref": "cus_R2d2C3po",
        "external_ref": f"sub_{new_id().hex}",
        "item_ref": "si_Bb8",
        "synced_at": NOW + timedelta(seconds=1),
        "updated_at": NOW + timedelta(seconds=2),
    }
    return Subscription(**(values | fields))


async def stored(uow_factory: UnitOfWorkFactory, subscription_id: UUID) -> Subscription:
    async with uow_factory() as uow:
        found = await uow.subscriptions.get(subscription_id)
    assert found is not None
    return found


class TestAdd:
    async def test_every_field_survives_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        current = every_field_set(account.id)
        ended = every_field_set(
            account.id,
            status=SubscriptionStatus.CANCELED,
            interval=Interval.MONTH,
            provider=Provider.LOCAL,
            ended_at=NOW - timedelta(days=4),
            cancel_at_period_end=False,
        )

        await given(account, ended, current)

        async with uow_factory() as uow:
            assert await uow.subscriptions.get(current.id) == current
            assert await uow.subscriptions.get(ended.id) == ended
            assert await uow.subscriptions.current_for(account.id) == current

    async def test_defaults_survive_the_round_trip(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        free = Subscription(
            account_id=account.id,
            plan_code="attendee",
            status=SubscriptionStatus.ACTIVE,
            interval=Interval.MONTH,
            current_period_start=NOW,
            current_period_end=NOW + timedelta(days=31),
            billing_anchor=NOW,
            created_at=NOW,
        )

        await given(account, free)

        found = await stored(uow_factory, free.id)
        assert found == free
        assert found.provider is Provider.PLATFORM
        assert found.status is SubscriptionStatus.ACTIVE
        assert found.interval is Interval.MONTH

    async def test_instants_come_back_aware_and_equal(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        subscription = every_field_set(account.id)
        await given(account, subscription)

        found = await stored(uow_factory, subscription.id)

        assert found.current_period_end == subscription.current_period_end
        assert found.current_period_end.utcoffset() is not None
        assert found.canceled_at == subscription.canceled_at
        assert found.canceled_at is not None
        assert found.canceled_at.utcoffset() is not None

    async def test_a_second_current_subscription_of_an_account_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        first = a_subscription(account)
        await given(account, first)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.add(a_subscription(account))

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) == first

    async def test_ended_subscriptions_do_not_count_as_current(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        history = [a_subscription(account, ended_at=ENDED) for _ in range(3)]
        current = a_subscription(account)

        await given(account, *history, current)

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) == current
            for ended in history:
                assert await uow.subscriptions.get(ended.id) == ended

    async def test_an_external_ref_taken_by_another_row_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account, other = a_user(), a_user()
        ended = a_subscription(account, ended_at=ENDED, external_ref="sub_1")
        await given(account, other, ended)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.add(a_subscription(other, external_ref="sub_1"))
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.add(
                    a_subscription(account, external_ref="sub_1")
                )

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(other.id) is None
            assert await uow.subscriptions.current_for(account.id) is None

    async def test_many_subscriptions_may_have_no_external_ref(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        accounts = [a_user() for _ in range(3)]
        added = [a_subscription(account, external_ref=None) for account in accounts]

        await given(*accounts, *added)

        async with uow_factory() as uow:
            for subscription in added:
                assert await uow.subscriptions.get(subscription.id) == subscription

    async def test_unit_of_work_stays_usable_after_a_refused_add(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account, other = a_user(), a_user()
        await given(account, other, a_subscription(account, external_ref="sub_1"))
        kept = a_subscription(other)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.add(a_subscription(account))
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.add(a_subscription(other, external_ref="sub_1"))
            await uow.subscriptions.add(kept)
            await uow.audit.add(an_audit_record("billing.subscription.started"))
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(other.id) == kept
            assert await uow.audit.count(action="billing.subscription.started") == 1

    async def test_an_add_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)
        dropped, kept = a_subscription(account), a_subscription(account)

        async with uow_factory() as uow:
            await uow.subscriptions.add(dropped)
            assert await uow.subscriptions.current_for(account.id) == dropped

        async with uow_factory() as uow:
            assert await uow.subscriptions.get(dropped.id) is None
            assert await uow.subscriptions.current_for(account.id) is None
            await uow.subscriptions.add(kept)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) == kept

    async def test_of_concurrent_first_subscriptions_of_an_account_one_is_kept(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)

        async def subscribe(uow: UnitOfWork) -> bool:
            try:
                await uow.subscriptions.add(a_subscription(account))
            except DuplicateSubscription:
                return False
            return True

        outcomes = await in_parallel(uow_factory, 10, subscribe)

        assert outcomes.count(True) == 1
        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) is not None


class TestGet:
    async def test_unknown_ids_and_refs_find_nothing(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account, a_subscription(account, external_ref="sub_1"))

        async with uow_factory() as uow:
            assert await uow.subscriptions.get(new_id()) is None
            assert await uow.subscriptions.current_for(new_id()) is None
            assert await uow.subscriptions.get_by_external("sub_2") is None

    async def test_current_for_is_none_when_every_subscription_ended(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account, a_subscription(account, ended_at=ENDED))

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) is None

    async def test_current_for_is_per_account(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account, other = a_user(), a_user()
        mine, theirs = a_subscription(account), a_subscription(other)
        await given(account, other, mine, theirs)

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) == mine
            assert await uow.subscriptions.current_for(other.id) == theirs

    async def test_had_trial_counts_ended_and_current_rows_of_the_account(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        ended_trial, current_trial, never, other = (a_user() for _ in range(4))
        await given(
            ended_trial,
            current_trial,
            never,
            other,
            a_subscription(ended_trial, ended_at=ENDED, trial_end=ENDED),
            a_subscription(ended_trial),
            a_subscription(current_trial, trial_end=NOW + timedelta(days=14)),
            a_subscription(never, ended_at=ENDED),
            a_subscription(never),
        )

        async with uow_factory() as uow:
            answers = [
                await uow.subscriptions.had_trial(account.id)
                for account in (ended_trial, current_trial, never, other)
            ]

        assert answers == [True, True, False, False]

    async def test_get_by_external_finds_current_and_ended_rows(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        ended = a_subscription(account, ended_at=ENDED, external_ref="sub_old")
        current = a_subscription(account, external_ref="sub_new")
        await given(account, ended, current)

        async with uow_factory() as uow:
            assert await uow.subscriptions.get_by_external("sub_old") == ended
            assert await uow.subscriptions.get_by_external("sub_new") == current

    async def test_changing_a_returned_subscription_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        subscription = a_subscription(account)
        await given(account, subscription)

        async with uow_factory() as uow:
            loaded = await uow.subscriptions.current_for(account.id)
            assert loaded is not None
            loaded.status = SubscriptionStatus.CANCELED
            loaded.ended_at = NOW
            await uow.commit()

        assert await stored(uow_factory, subscription.id) == subscription

    async def test_changing_an_added_subscription_changes_nothing_stored(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        subscription = a_subscription(account)
        original = replace(subscription)
        await given(account, subscription)

        subscription.plan_code = "attendee"

        assert await stored(uow_factory, subscription.id) == original


class TestUpdate:
    async def test_update_replaces_every_stored_field(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        subscription = a_subscription(account)
        await given(account, subscription)
        changed = every_field_set(account.id, id=subscription.id)

        async with uow_factory() as uow:
            await uow.subscriptions.update(changed)
            await uow.commit()

        assert await stored(uow_factory, subscription.id) == changed

    async def test_ending_one_makes_room_for_the_next_in_one_transaction(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        old = a_subscription(account, plan_code="organizer")
        await given(account, old)
        new = a_subscription(account, plan_code="organizer_pro")

        async with uow_factory() as uow:
            await uow.subscriptions.update(
                replace(old, status=SubscriptionStatus.CANCELED, ended_at=NOW)
            )
            await uow.subscriptions.add(new)
            await uow.commit()

        async with uow_factory() as uow:
            assert await uow.subscriptions.current_for(account.id) == new
            ended = await uow.subscriptions.get(old.id)
            assert ended is not None
            assert ended.ended_at == NOW

    async def test_reviving_an_ended_one_beside_a_current_one_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        ended = a_subscription(account, ended_at=ENDED)
        current = a_subscription(account)
        await given(account, ended, current)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.update(replace(ended, ended_at=None))
            assert await uow.subscriptions.current_for(account.id) == current

    async def test_taking_another_rows_external_ref_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account, other = a_user(), a_user()
        mine = a_subscription(account, external_ref="sub_1")
        theirs = a_subscription(other, external_ref="sub_2")
        await given(account, other, mine, theirs)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateSubscription):
                await uow.subscriptions.update(replace(theirs, external_ref="sub_1"))
            await uow.subscriptions.update(replace(theirs, plan_code="attendee"))
            await uow.commit()

        found = await stored(uow_factory, theirs.id)
        assert (found.external_ref, found.plan_code) == ("sub_2", "attendee")

    async def test_an_update_left_uncommitted_is_discarded(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        subscription = a_subscription(account)
        await given(account, subscription)

        async with uow_factory() as uow:
            await uow.subscriptions.update(replace(subscription, ended_at=NOW))
            await uow.rollback()
            assert await uow.subscriptions.current_for(account.id) == subscription

        assert await stored(uow_factory, subscription.id) == subscription

    async def test_updating_an_unknown_subscription_raises_key_error(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        account = a_user()
        await given(account)

        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.subscriptions.update(a_subscription(account))


async def accounts_with(given: Given, *builds: dict[str, Any]) -> list[Subscription]:
    """One account per build, each with a subscription of those fields."""
    accounts = [a_user() for _ in builds]
    added = [
        a_subscription(account, **fields)
        for account, fields in zip(accounts, builds, strict=True)
    ]
    await given(*accounts, *added)
    return added


class TestPeriodsEnded:
    async def test_finds_current_periods_kept_here_that_ended_oldest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        local, platform, at_now, _stripe, _ended, _running = await accounts_with(
            given,
            {"provider": Provider.LOCAL, "current_period_end": NOW - timedelta(days=2)},
            {
                "provider": Provider.PLATFORM,
                "current_period_end": NOW - timedelta(days=3),
            },
            {"provider": Provider.LOCAL, "current_period_end": NOW},
            {
                "provider": Provider.STRIPE,
                "current_period_end": NOW - timedelta(days=5),
            },
            {
                "provider": Provider.LOCAL,
                "current_period_end": NOW - timedelta(days=9),
                "ended_at": NOW - timedelta(days=9),
            },
            {
                "provider": Provider.LOCAL,
                "current_period_end": NOW + timedelta(microseconds=1),
            },
        )

        async with uow_factory() as uow:
            found = await uow.subscriptions.periods_ended(NOW, limit=10)

        assert found == [platform, local, at_now]

    async def test_compares_instants_across_offsets(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        (due,) = await accounts_with(
            given, {"current_period_end": NOW.astimezone(PLUS_FIVE)}
        )
        just_before = (NOW - timedelta(microseconds=1)).astimezone(PLUS_FIVE)

        async with uow_factory() as uow:
            assert await uow.subscriptions.periods_ended(just_before, limit=10) == []
            assert await uow.subscriptions.periods_ended(NOW, limit=10) == [due]

    async def test_returns_at_most_limit_rows(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        added = await accounts_with(
            given,
            *({"current_period_end": NOW - timedelta(hours=h)} for h in range(5)),
        )

        async with uow_factory() as uow:
            found = await uow.subscriptions.periods_ended(NOW, limit=2)

        assert found == [added[4], added[3]]


class TestTrialsEnding:
    async def test_finds_current_trials_ending_before_the_instant_earliest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        trialing = SubscriptionStatus.TRIALING
        later, sooner, _at_before, _active, _ended, _no_trial_end = await accounts_with(
            given,
            {"status": trialing, "trial_end": NOW + timedelta(days=2)},
            {"status": trialing, "trial_end": NOW - timedelta(days=1)},
            {"status": trialing, "trial_end": NOW + timedelta(days=3)},
            {
                "status": SubscriptionStatus.ACTIVE,
                "trial_end": NOW - timedelta(days=5),
            },
            {
                "status": trialing,
                "trial_end": NOW - timedelta(days=6),
                "ended_at": NOW - timedelta(days=6),
            },
            {"status": trialing, "trial_end": None},
        )

        async with uow_factory() as uow:
            found = await uow.subscriptions.trials_ending(
                NOW + timedelta(days=3), limit=10
            )

        assert found == [sooner, later]

    async def test_returns_at_most_limit_rows(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        added = await accounts_with(
            given,
            *(
                {
                    "status": SubscriptionStatus.TRIALING,
                    "trial_end": NOW + timedelta(hours=h),
                }
                for h in (4, 1, 3, 2)
            ),
        )

        async with uow_factory() as uow:
            found = await uow.subscriptions.trials_ending(
                NOW + timedelta(days=1), limit=3
            )

        assert found == [added[1], added[3], added[2]]


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


class TestCurrentWithProvider:
    async def test_lists_current_rows_of_one_provider_by_id(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        order = [3, 0, 5, 2, 4, 1]
        added = await accounts_with(
            given,
            *(
                {"id": ORDERED_IDS[i], "provider": Provider.STRIPE, "item_ref": str(i)}
                for i in order
            ),
            {"provider": Provider.LOCAL},
            {"provider": Provider.STRIPE, "ended_at": ENDED},
        )
        by_id = sorted(added[: len(order)], key=lambda s: s.id)

        async with uow_factory() as uow:
            found = await uow.subscriptions.current_with_provider(
                Provider.STRIPE, after=None, limit=10
            )

        assert found == by_id
        assert [s.id for s in found] == ORDERED_IDS

    async def test_pages_through_every_row_after_the_last_one_seen(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await accounts_with(
            given,
            *({"id": i, "provider": Provider.STRIPE} for i in reversed(ORDERED_IDS)),
        )
        pages: list[list[UUID]] = []
        after: UUID | None = None

        async with uow_factory() as uow:
            while page := await uow.subscriptions.current_with_provider(
                Provider.STRIPE, after=after, limit=4
            ):
                pages.append([s.id for s in page])
                after = page[-1].id

        assert pages == [ORDERED_IDS[:4], ORDERED_IDS[4:]]

    async def test_after_excludes_that_id_and_those_before(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        await accounts_with(
            given, *({"id": i, "provider": Provider.LOCAL} for i in ORDERED_IDS)
        )

        async with uow_factory() as uow:
            found = await uow.subscriptions.current_with_provider(
                Provider.LOCAL, after=ORDERED_IDS[2], limit=10
            )
            none_left = await uow.subscriptions.current_with_provider(
                Provider.LOCAL, after=ORDERED_IDS[-1], limit=10
            )
            other_provider = await uow.subscriptions.current_with_provider(
                Provider.PLATFORM, after=None, limit=10
            )

        assert [s.id for s in found] == ORDERED_IDS[3:]
        assert none_left == []
        assert other_provider == []


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the backend's database, for reading and writing rows."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("backend", SQL_BACKENDS)
class TestStoredRows:
    async def test_enums_are_stored_as_their_values(
        self, given: Given, engine: AsyncEngine
    ) -> None:
        account = a_user()
        subscription = a_subscription(
            account,
            status=SubscriptionStatus.TRIALING,
            interval=Interval.YEAR,
            provider=Provider.STRIPE,
        )
        await given(account, subscription)

        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        subscriptions.c.status,
                        subscriptions.c.interval,
                        subscriptions.c.provider,
                    )
                )
            ).one()

        assert tuple(row) == ("trialing", "year", "stripe")

    async def test_a_deleted_account_takes_its_subscriptions_with_it(
        self, uow_factory: UnitOfWorkFactory, given: Given, engine: AsyncEngine
    ) -> None:
        account, other = a_user(), a_user()
        kept = a_subscription(other)
        await given(
            account,
            other,
            a_subscription(account, ended_at=ENDED),
            a_subscription(account),
            kept,
        )

        async with engine.begin() as connection:
            await connection.execute(delete(users).where(users.c.id == account.id))
            remaining = await connection.execute(select(subscriptions.c.id))
            assert list(remaining.scalars()) == [kept.id]

    async def test_a_subscription_needs_an_existing_account(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        orphan = a_subscription(a_user())

        async with uow_factory() as uow:
            with pytest.raises(IntegrityError):
                await uow.subscriptions.add(orphan)
