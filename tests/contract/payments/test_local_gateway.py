"""What only the local gateway does: the platform keeps its subscriptions."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from adapters.memory import ManualClock
from adapters.memory.payments import LocalPaymentGateway
from platform_core.billing.model import Interval
from platform_core.billing.subscription import SubscriptionStatus

from .conftest import ORGANIZER, ORGANIZER_PRO, Harness


async def test_an_interval_change_keeps_the_period(clock: ManualClock) -> None:
    gateway = LocalPaymentGateway(clock)
    harness = Harness("local", gateway, clock, finish_checkout=_never_called)
    account_id = uuid4()
    customer_id = await harness.customer(account_id)
    session = await gateway.start_checkout(
        harness.checkout_request(account_id, customer_id, plan=ORGANIZER)
    )
    assert session.subscription is not None
    subscription = session.subscription

    changed = await gateway.change_plan(
        subscription, ORGANIZER_PRO, Interval.YEAR, idempotency_key="change"
    )

    assert (changed.plan_code, changed.interval) == (ORGANIZER_PRO.code, Interval.YEAR)
    assert changed.current_period_start == subscription.current_period_start
    assert changed.current_period_end == subscription.current_period_end


async def test_a_past_due_subscription_stays_past_due_on_a_plan_change(
    clock: ManualClock,
) -> None:
    gateway = LocalPaymentGateway(clock)
    harness = Harness("local", gateway, clock, finish_checkout=_never_called)
    account_id = uuid4()
    session = await gateway.start_checkout(
        harness.checkout_request(account_id, await harness.customer(account_id))
    )
    assert session.subscription is not None
    overdue = replace(session.subscription, status=SubscriptionStatus.PAST_DUE)

    changed = await gateway.change_plan(
        overdue, ORGANIZER_PRO, Interval.MONTH, idempotency_key="change"
    )

    assert changed.status is SubscriptionStatus.PAST_DUE


async def test_the_default_card_pays_for_a_new_subscription(clock: ManualClock) -> None:
    gateway = LocalPaymentGateway(clock)
    harness = Harness("local", gateway, clock, finish_checkout=_never_called)
    account_id = uuid4()
    customer_id = await harness.customer(account_id)
    card = await gateway.attach_card(customer_id, "pm_card_visa", make_default=True)

    session = await gateway.start_checkout(
        harness.checkout_request(account_id, customer_id)
    )

    assert session.subscription is not None
    assert session.subscription.default_payment_method == card.id


async def test_a_customer_made_before_a_restart_starts_without_cards(
    clock: ManualClock,
) -> None:
    before = LocalPaymentGateway(clock)
    customer_id = await before.create_customer(
        account_id=uuid4(), email="a@example.org", name="A", idempotency_key="c"
    )
    await before.attach_card(customer_id, "pm_card_visa", make_default=True)

    after = LocalPaymentGateway(clock)

    assert await after.list_cards(customer_id) == []
    card = await after.attach_card(customer_id, "pm_card_amex", make_default=False)
    assert card.is_default


async def _never_called(session: object) -> None:
    raise AssertionError("the local gateway completes checkouts itself")


async def test_no_subscription_is_live_at_the_local_gateway(
    clock: ManualClock,
) -> None:
    gateway = LocalPaymentGateway(clock)
    harness = Harness("local", gateway, clock, finish_checkout=_never_called)
    account_id = uuid4()
    customer_id = await harness.customer(account_id)
    await gateway.start_checkout(harness.checkout_request(account_id, customer_id))

    assert await gateway.live_subscriptions(customer_id) == []
