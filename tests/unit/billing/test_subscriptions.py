"""Subscriptions, entitlements and billing jobs on the in-memory adapters."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from adapters.memory import MemoryAdapters, build_memory_platform
from adapters.memory.payments import LocalPaymentGateway
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.billing.ports import GatewayEvent
from platform_core.billing.subscription import Provider, SubscriptionStatus
from platform_core.identity.model import Principal
from platform_core.shared.errors import (
    Conflict,
    NotConfigured,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    ValidationFailed,
)
from tests.support import Core

ATTENDEE = Plan(
    code="attendee",
    name="Attendee",
    prices=(Price(Interval.MONTH, 0, "USD"), Price(Interval.YEAR, 0, "USD")),
)
ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"), Price(Interval.YEAR, 29000, "USD")),
    trial_days=14,
    capabilities=frozenset({Capability.ORGANIZER, Capability.CERTIFICATES}),
    limits={Limit.EVENTS_PER_PERIOD: 3, Limit.CERTIFICATES_PER_PERIOD: None},
)
STARTER = Plan(
    code="starter",
    name="Starter",
    prices=(Price(Interval.MONTH, 900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: 1},
)
PRO = Plan(
    code="pro",
    name="Pro",
    prices=(Price(Interval.MONTH, 7900, "USD"), Price(Interval.YEAR, 79000, "USD")),
    capabilities=frozenset({Capability.ORGANIZER, Capability.LMS}),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.COURSES: 10},
)


async def _with_plans(core: Core) -> Core:
    for plan in (ATTENDEE, ORGANIZER, STARTER, PRO):
        await core.platform.billing.upsert_plan(None, plan)
    return core


@pytest.fixture
async def billing(core: Core) -> Core:
    return await _with_plans(core)


@pytest.fixture
async def ada(billing: Core) -> Principal:
    return await billing.principal(await billing.verified_user())


def _move_to(adapters: MemoryAdapters, at: datetime) -> None:
    adapters.clock.advance(at - adapters.clock.now())


async def _roles(core: Core, actor: Principal) -> tuple[bool, bool]:
    user = await core.platform.identity.get_profile(actor)
    return user.is_organizer, user.is_lms_owner


async def _notification_kinds(core: Core, user_id: UUID) -> list[str]:
    async with core.adapters.ports().uow_factory() as uow:
        found = await uow.notifications.list_for_user(user_id, limit=50)
    return [n.kind for n in found]


class TestNewAccount:
    async def test_is_on_the_attendee_plan_with_nothing_to_use(
        self, billing: Core, ada: Principal
    ) -> None:
        view = await billing.platform.billing.subscription(ada)

        assert view.subscription.plan_code == "attendee"
        assert view.subscription.status is SubscriptionStatus.ACTIVE
        assert view.subscription.provider is Provider.PLATFORM
        assert view.usage["events_per_period"].used == 0
        assert view.usage["events_per_period"].limit == 0
        assert await _roles(billing, ada) == (False, False)

    async def test_reading_twice_gives_the_same_subscription(
        self, billing: Core, ada: Principal
    ) -> None:
        first = await billing.platform.billing.subscription(ada)
        second = await billing.platform.billing.subscription(ada)

        assert first.subscription.id == second.subscription.id

    async def test_lacks_the_organizer_capability(
        self, billing: Core, ada: Principal
    ) -> None:
        with pytest.raises(PermissionDenied) as caught:
            await billing.platform.entitlements.require(
                ada.user_id, Capability.ORGANIZER
            )

        assert caught.value.code == "capability_missing"
        assert caught.value.extra["capability"] == "organizer"


class TestSubscribing:
    async def test_local_checkout_starts_the_trial_at_once_and_makes_an_organizer(
        self, billing: Core, ada: Principal
    ) -> None:
        started = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        subscription = started.view.subscription
        assert started.checkout_url is None
        assert subscription.plan_code == "organizer"
        assert subscription.status is SubscriptionStatus.TRIALING
        assert subscription.provider is Provider.LOCAL
        assert subscription.trial_end == billing.adapters.clock.now() + timedelta(
            days=14
        )
        assert started.view.usage["events_per_period"].limit == 3
        assert await _roles(billing, ada) == (True, False)

    async def test_lms_capability_makes_an_lms_owner(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(ada, plan_code="pro", interval="year")

        assert await _roles(billing, ada) == (True, True)

    async def test_a_second_subscription_is_refused(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        with pytest.raises(Conflict) as caught:
            await billing.platform.billing.subscribe(
                ada, plan_code="pro", interval="month"
            )
        assert caught.value.code == "already_subscribed"

    async def test_a_trial_is_granted_once_per_account(
        self, billing: Core, ada: Principal
    ) -> None:
        first = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        await billing.platform.billing.downgrade(ada)

        again = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        assert first.view.subscription.status is SubscriptionStatus.TRIALING
        subscription = again.view.subscription
        assert subscription.id != first.view.subscription.id
        assert subscription.status is SubscriptionStatus.ACTIVE
        assert subscription.trial_end is None
        assert subscription.current_period_end == billing.adapters.clock.now() + (
            timedelta(days=31)
        )
        assert await _roles(billing, ada) == (True, False)

    async def test_a_first_trial_follows_a_plan_without_one(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        await billing.platform.billing.downgrade(ada)

        started = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        assert started.view.subscription.status is SubscriptionStatus.TRIALING

    @pytest.mark.parametrize(
        ("plan", "interval", "field", "code"),
        [
            ("platinum", "month", "plan", "unknown"),
            ("attendee", "month", "plan", "invalid"),
            ("organizer", "week", "interval", "invalid"),
            ("starter", "year", "interval", "unavailable"),
        ],
    )
    async def test_a_plan_that_cannot_be_chosen_is_refused_and_nothing_changes(
        self,
        billing: Core,
        ada: Principal,
        plan: str,
        interval: str,
        field: str,
        code: str,
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await billing.platform.billing.subscribe(
                ada, plan_code=plan, interval=interval
            )

        assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]
        view = await billing.platform.billing.subscription(ada)
        assert view.subscription.plan_code == "attendee"


class TestQuota:
    async def test_consumes_up_to_the_limit_then_refuses_with_the_numbers(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        entitlements = billing.platform.entitlements

        lines = [
            await entitlements.consume(ada.user_id, Limit.EVENTS_PER_PERIOD)
            for _ in range(3)
        ]
        with pytest.raises(QuotaExceeded) as caught:
            await entitlements.consume(ada.user_id, Limit.EVENTS_PER_PERIOD)

        assert [line.used for line in lines] == [1, 2, 3]
        assert caught.value.code == "quota_exceeded"
        assert caught.value.extra["limit"] == 3
        view = await billing.platform.billing.subscription(ada)
        assert caught.value.extra["period_end"] == (
            view.subscription.current_period_end.isoformat()
        )
        assert view.usage["events_per_period"].used == 3

    async def test_unlimited_quota_is_counted_but_never_refused(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        for _ in range(5):
            line = await billing.platform.entitlements.consume(
                ada.user_id, Limit.CERTIFICATES_PER_PERIOD
            )

        assert (line.used, line.limit) == (5, None)

    async def test_the_attendee_plan_allows_no_event(
        self, billing: Core, ada: Principal
    ) -> None:
        with pytest.raises(QuotaExceeded):
            await billing.platform.entitlements.consume(
                ada.user_id, Limit.EVENTS_PER_PERIOD
            )


class TestChangingPlan:
    async def test_a_downgrade_below_this_periods_usage_is_refused_with_numbers(
        self, billing: Core, ada: Principal
    ) -> None:
        started = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        for _ in range(2):
            await billing.platform.entitlements.consume(
                ada.user_id, Limit.EVENTS_PER_PERIOD
            )

        with pytest.raises(Conflict) as caught:
            await billing.platform.billing.change_plan(
                ada,
                started.view.subscription.id,
                plan_code="starter",
                interval=None,
            )

        assert caught.value.code == "usage_exceeds_plan"
        assert caught.value.extra["limits"] == [
            {"limit": "events_per_period", "used": 2, "allowed": 1}
        ]
        view = await billing.platform.billing.subscription(ada)
        assert view.subscription.plan_code == "organizer"

    async def test_an_upgrade_keeps_the_subscription_and_its_usage(
        self, billing: Core, ada: Principal
    ) -> None:
        started = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        await billing.platform.entitlements.consume(
            ada.user_id, Limit.EVENTS_PER_PERIOD
        )

        view = await billing.platform.billing.change_plan(
            ada, started.view.subscription.id, plan_code="pro", interval="year"
        )

        assert view.subscription.id == started.view.subscription.id
        assert (view.subscription.plan_code, view.subscription.interval) == (
            "pro",
            Interval.YEAR,
        )
        assert view.usage["events_per_period"].used == 1
        assert view.usage["events_per_period"].limit is None
        assert await _roles(billing, ada) == (True, True)

    async def test_someone_elses_subscription_is_not_found(
        self, billing: Core, ada: Principal
    ) -> None:
        grace = await billing.principal(
            await billing.verified_user("grace@example.org")
        )
        theirs = await billing.platform.billing.subscribe(
            grace, plan_code="organizer", interval="month"
        )
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        with pytest.raises(NotFound):
            await billing.platform.billing.change_plan(
                ada, theirs.view.subscription.id, plan_code="pro", interval=None
            )


class TestCancelAndReactivate:
    async def test_cancel_then_reactivate_before_the_period_ends(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        await billing.platform.billing.add_payment_method(
            ada, "pm_card_visa", make_default=True
        )

        canceled = await billing.platform.billing.cancel(ada)
        again = await billing.platform.billing.cancel(ada)
        reactivated = await billing.platform.billing.reactivate(ada)

        assert canceled.subscription.cancel_at_period_end
        assert again.subscription.cancel_at_period_end
        assert not reactivated.subscription.cancel_at_period_end
        assert reactivated.subscription.status is SubscriptionStatus.ACTIVE

    async def test_a_remembered_default_card_lets_it_reactivate_after_a_restart(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        await billing.platform.billing.add_payment_method(
            ada, "pm_card_visa", make_default=True
        )
        await billing.platform.billing.cancel(ada)
        billing.adapters.payments = LocalPaymentGateway(billing.adapters.clock)
        restarted = Platform(
            billing.adapters.ports(), IdentityPolicy(frontend_url="https://app.test")
        )
        assert await restarted.billing.payment_methods(ada) == []

        reactivated = await restarted.billing.reactivate(ada)

        assert not reactivated.subscription.cancel_at_period_end

    async def test_at_period_end_a_canceled_plan_ends_and_the_owner_is_told(
        self, billing: Core, ada: Principal
    ) -> None:
        started = await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        await billing.platform.billing.cancel(ada)
        _move_to(
            billing.adapters,
            started.view.subscription.current_period_end + timedelta(minutes=1),
        )

        summary = await billing.platform.billing.reset_usage()

        assert summary.changed == 1
        view = await billing.platform.billing.subscription(ada)
        assert view.subscription.plan_code == "attendee"
        assert await _roles(billing, ada) == (False, False)
        assert "billing.subscription_canceled" in await _notification_kinds(
            billing, ada.user_id
        )
        texts = await billing.delivered_mail_texts()
        assert any("Starter subscription has ended" in text for text in texts)
        with pytest.raises(Conflict) as caught:
            await billing.platform.billing.reactivate(ada)
        assert caught.value.code == "not_subscribed"

    async def test_reactivating_what_is_not_canceling_is_refused(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )

        with pytest.raises(Conflict) as caught:
            await billing.platform.billing.reactivate(ada)

        assert caught.value.code == "not_canceling"


class TestPeriods:
    async def test_usage_resets_at_the_subscriptions_own_period_start(
        self, billing: Core, ada: Principal
    ) -> None:
        _move_to(billing.adapters, datetime(2027, 1, 31, 10, 0, tzinfo=UTC))
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        await billing.platform.entitlements.consume(
            ada.user_id, Limit.EVENTS_PER_PERIOD
        )
        _move_to(billing.adapters, datetime(2027, 2, 28, 10, 0, 1, tzinfo=UTC))

        summary = await billing.platform.billing.reset_usage()
        view = await billing.platform.billing.subscription(ada)

        assert summary.changed == 1
        assert view.subscription.current_period_start == datetime(
            2027, 2, 28, 10, 0, tzinfo=UTC
        )
        assert view.subscription.current_period_end == datetime(
            2027, 3, 31, 10, 0, tzinfo=UTC
        )
        assert view.usage["events_per_period"].used == 0
        line = await billing.platform.entitlements.consume(
            ada.user_id, Limit.EVENTS_PER_PERIOD
        )
        assert line.used == 1

    async def test_a_quota_renews_even_before_the_job_runs(
        self, billing: Core, ada: Principal
    ) -> None:
        _move_to(billing.adapters, datetime(2028, 1, 30, 8, 0, tzinfo=UTC))
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        await billing.platform.entitlements.consume(
            ada.user_id, Limit.EVENTS_PER_PERIOD
        )
        _move_to(billing.adapters, datetime(2028, 2, 29, 8, 0, tzinfo=UTC))

        line = await billing.platform.entitlements.consume(
            ada.user_id, Limit.EVENTS_PER_PERIOD
        )

        assert line.used == 1
        assert line.resets_at == datetime(2028, 3, 30, 8, 0, tzinfo=UTC)

    async def test_running_the_reset_twice_changes_nothing_more(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="starter", interval="month"
        )
        billing.adapters.clock.advance(timedelta(days=40))

        first = await billing.platform.billing.reset_usage()
        second = await billing.platform.billing.reset_usage()

        assert (first.changed, second.changed) == (1, 0)


class TestTrials:
    async def test_a_trial_without_a_card_expires_and_the_owner_is_told(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        billing.adapters.clock.advance(timedelta(days=14, seconds=1))

        summary = await billing.platform.billing.expire_trials()

        assert summary.changed == 1
        view = await billing.platform.billing.subscription(ada)
        assert view.subscription.plan_code == "attendee"
        assert await _roles(billing, ada) == (False, False)
        assert "billing.trial_expired" in await _notification_kinds(
            billing, ada.user_id
        )

    async def test_a_trial_with_a_default_card_becomes_active(
        self, billing: Core, ada: Principal
    ) -> None:
        started = await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        await billing.platform.billing.add_payment_method(
            ada, "pm_card_visa", make_default=True
        )
        trial_end = started.view.subscription.trial_end
        assert trial_end is not None
        billing.adapters.clock.advance(timedelta(days=14, seconds=1))

        await billing.platform.billing.expire_trials()
        view = await billing.platform.billing.subscription(ada)

        assert view.subscription.id == started.view.subscription.id
        assert view.subscription.status is SubscriptionStatus.ACTIVE
        assert view.subscription.current_period_start == trial_end
        assert await _roles(billing, ada) == (True, False)

    async def test_the_owner_hears_three_days_ahead_and_only_once(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        billing.adapters.clock.advance(timedelta(days=10))
        early = await billing.platform.billing.notify_trials_ending()
        billing.adapters.clock.advance(timedelta(days=1, hours=1))

        first = await billing.platform.billing.notify_trials_ending()
        second = await billing.platform.billing.notify_trials_ending()

        assert (early.changed, first.changed, second.changed) == (0, 1, 0)
        assert (await _notification_kinds(billing, ada.user_id)).count(
            "billing.trial_ending"
        ) == 1
        texts = await billing.delivered_mail_texts()
        assert sum("trial of the Organizer plan ends" in t for t in texts) == 1

    @pytest.mark.parametrize(
        ("elapsed", "title"),
        [
            (timedelta(days=11, hours=1), "Your trial ends in 3 days"),
            (timedelta(days=12), "Your trial ends in 2 days"),
            (timedelta(days=13, hours=1), "Your trial ends tomorrow"),
            (timedelta(days=13, hours=23), "Your trial ends today"),
        ],
    )
    async def test_the_notice_says_when_the_trial_really_ends(
        self, billing: Core, ada: Principal, elapsed: timedelta, title: str
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        billing.adapters.clock.advance(elapsed)

        await billing.platform.billing.notify_trials_ending()

        async with billing.adapters.ports().uow_factory() as uow:
            found = await uow.notifications.list_for_user(ada.user_id, limit=5)
        assert [n.title for n in found] == [title]
        await billing.delivered_mail_texts()
        assert [m.message.subject for m in billing.adapters.mailer.sent][-1] == title


class _Running:
    def __init__(self, counts: Mapping[str, int]) -> None:
        self._counts = counts

    async def count(self, account_id: UUID) -> Mapping[str, int]:
        return self._counts


class TestDowngrade:
    async def test_ends_the_subscription_at_once(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        view = await billing.platform.billing.downgrade(ada)

        assert view.subscription.plan_code == "attendee"
        assert await _roles(billing, ada) == (False, False)

    async def test_tells_the_owner_the_subscription_was_canceled(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )

        await billing.platform.billing.downgrade(ada)
        await billing.platform.billing.downgrade(ada)

        kinds = await _notification_kinds(billing, ada.user_id)
        assert kinds.count("billing.subscription_canceled") == 1
        texts = await billing.delivered_mail_texts()
        assert sum("Organizer subscription has ended" in t for t in texts) == 1

    async def test_is_refused_while_events_run(self) -> None:
        adapters = MemoryAdapters()
        adapters.active_work.append(_Running({"events": 2, "courses": 0}))
        platform, _ = build_memory_platform("https://app.test", adapters)
        core = await _with_plans(Core(platform, adapters))
        actor = await core.principal(await core.verified_user())
        await platform.billing.subscribe(actor, plan_code="organizer", interval="month")

        with pytest.raises(Conflict) as caught:
            await platform.billing.downgrade(actor)

        assert caught.value.code == "downgrade_blocked"
        assert caught.value.extra["active"] == {"events": 2}
        view = await platform.billing.subscription(actor)
        assert view.subscription.plan_code == "organizer"


class TestPaymentMethods:
    async def test_the_last_card_of_a_paying_subscription_stays(
        self, billing: Core, ada: Principal
    ) -> None:
        await billing.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        first = await billing.platform.billing.add_payment_method(
            ada, "pm_card_visa", make_default=True
        )

        with pytest.raises(Conflict) as caught:
            await billing.platform.billing.remove_payment_method(ada, first.id)
        second = await billing.platform.billing.add_payment_method(
            ada, "pm_card_mastercard", make_default=False
        )
        await billing.platform.billing.remove_payment_method(ada, first.id)

        assert caught.value.code == "last_payment_method"
        cards = await billing.platform.billing.payment_methods(ada)
        assert [card.id for card in cards] == [second.id]

    async def test_a_declined_card_is_refused(
        self, billing: Core, ada: Principal
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await billing.platform.billing.add_payment_method(
                ada, "pm_card_chargeDeclined", make_default=True
            )

        assert caught.value.errors[0].code == "card_declined"
        assert await billing.platform.billing.payment_methods(ada) == []

    async def test_a_setup_intent_carries_a_client_secret(
        self, billing: Core, ada: Principal
    ) -> None:
        intent = await billing.platform.billing.setup_payment_method(ada)

        assert intent.client_secret.startswith(intent.id)


class TestProviderEvents:
    async def test_stripe_events_are_refused_in_local_mode(self, billing: Core) -> None:
        event = GatewayEvent(
            id="evt_1",
            type="invoice.paid",
            created=billing.adapters.clock.now(),
            subscription_id="sub_1",
        )

        with pytest.raises(NotConfigured):
            await billing.platform.billing.handle_event(event)
