"""What every PaymentGateway promises, checked against the local and Stripe ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from platform_core.billing.model import Interval
from platform_core.billing.ports import GatewaySubscription
from platform_core.billing.subscription import Provider, SubscriptionStatus, add_months
from platform_core.shared.errors import NotFound, ValidationFailed

from .conftest import ORGANIZER, ORGANIZER_PRO, SDK_WARNINGS, Harness

pytestmark = SDK_WARNINGS


async def subscribe(
    harness: Harness,
    *,
    interval: Interval = Interval.MONTH,
    trial_days: int = 0,
) -> GatewaySubscription:
    """A subscription to ORGANIZER through a finished checkout."""
    account_id = uuid4()
    customer_id = await harness.customer(account_id)
    session = await harness.gateway.start_checkout(
        harness.checkout_request(
            account_id, customer_id, interval=interval, trial_days=trial_days
        )
    )
    await harness.finish_checkout(session)
    finished = await harness.gateway.retrieve_checkout(session.id)
    assert finished is not None
    assert finished.subscription is not None
    return finished.subscription


def field_codes(error: ValidationFailed) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in error.errors]


async def test_the_provider_is_named(harness: Harness) -> None:
    expected = Provider.LOCAL if harness.name == "local" else Provider.STRIPE
    assert harness.gateway.provider is expected


async def test_a_customer_key_used_twice_creates_one_customer(
    harness: Harness,
) -> None:
    account_id = uuid4()
    first, again, other = [
        await harness.gateway.create_customer(
            account_id=account_id,
            email="ada@example.org",
            name="Ada Lovelace",
            idempotency_key=key,
        )
        for key in ("customer-1", "customer-1", "customer-2")
    ]

    assert first.startswith("cus_")
    assert again == first
    assert other != first


async def test_a_checkout_ends_in_an_active_subscription(harness: Harness) -> None:
    account_id = uuid4()
    customer_id = await harness.customer(account_id)

    session = await harness.gateway.start_checkout(
        harness.checkout_request(account_id, customer_id)
    )

    assert session.account_id == account_id
    if harness.name == "local":
        assert session.complete
        assert session.url is None
        assert session.id.startswith("cs_local_")
    else:
        assert not session.complete
        assert session.subscription is None
        assert session.url is not None
        assert session.url.startswith("https://checkout.stripe.com/")
        assert session.id.startswith("cs_")

    await harness.finish_checkout(session)
    finished = await harness.gateway.retrieve_checkout(session.id)

    assert finished is not None
    assert finished.id == session.id
    assert finished.complete
    assert finished.account_id == account_id
    subscription = finished.subscription
    assert subscription is not None
    assert subscription.id.startswith("sub_")
    assert subscription.item_id is not None
    assert subscription.item_id.startswith("si_")
    assert subscription.customer_id == customer_id
    assert subscription.account_id == account_id
    assert subscription.plan_code == ORGANIZER.code
    assert subscription.interval is Interval.MONTH
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_start == harness.clock.now()
    assert subscription.current_period_end == add_months(harness.clock.now(), 1)
    assert subscription.trial_end is None
    assert not subscription.cancel_at_period_end
    assert subscription.canceled_at is None
    assert subscription.ended_at is None


async def test_a_yearly_checkout_runs_for_twelve_months(harness: Harness) -> None:
    subscription = await subscribe(harness, interval=Interval.YEAR)

    assert subscription.interval is Interval.YEAR
    assert subscription.current_period_end == add_months(harness.clock.now(), 12)


async def test_a_checkout_with_trial_days_starts_trialing(harness: Harness) -> None:
    subscription = await subscribe(harness, trial_days=14)

    trial_end = harness.clock.now() + timedelta(days=14)
    assert subscription.status is SubscriptionStatus.TRIALING
    assert subscription.trial_end == trial_end
    assert subscription.current_period_start == harness.clock.now()
    assert subscription.current_period_end == trial_end


async def test_a_checkout_key_used_twice_starts_one_checkout(harness: Harness) -> None:
    account_id = uuid4()
    customer_id = await harness.customer(account_id)
    request = harness.checkout_request(
        account_id, customer_id, idempotency_key="checkout-once"
    )

    first = await harness.gateway.start_checkout(request)
    again = await harness.gateway.start_checkout(request)

    assert again.id == first.id


async def test_an_unknown_checkout_is_none(harness: Harness) -> None:
    assert await harness.gateway.retrieve_checkout("cs_test_nothing_here") is None
    assert await harness.gateway.retrieve_checkout("") is None


async def test_retrieving_a_subscription_gives_its_current_state(
    harness: Harness,
) -> None:
    subscription = await subscribe(harness)

    assert await harness.gateway.retrieve_subscription(subscription) == subscription


async def test_changing_the_plan_keeps_the_subscription(harness: Harness) -> None:
    subscription = await subscribe(harness)

    changed = await harness.gateway.change_plan(
        subscription, ORGANIZER_PRO, Interval.MONTH, idempotency_key="change-1"
    )

    assert changed.id == subscription.id
    assert changed.item_id == subscription.item_id
    assert changed.plan_code == ORGANIZER_PRO.code
    assert changed.interval is Interval.MONTH
    assert changed.status is SubscriptionStatus.ACTIVE
    assert changed.current_period_start == subscription.current_period_start
    assert changed.current_period_end == subscription.current_period_end


async def test_changing_the_interval(harness: Harness) -> None:
    subscription = await subscribe(harness)

    changed = await harness.gateway.change_plan(
        subscription, ORGANIZER_PRO, Interval.YEAR, idempotency_key="change-2"
    )

    assert changed.plan_code == ORGANIZER_PRO.code
    assert changed.interval is Interval.YEAR
    assert changed.status is SubscriptionStatus.ACTIVE


async def test_cancel_at_period_end_turns_on_and_off(harness: Harness) -> None:
    subscription = await subscribe(harness)

    canceling = await harness.gateway.set_cancel_at_period_end(
        subscription, True, idempotency_key="cancel-1"
    )
    assert canceling.cancel_at_period_end
    assert canceling.status is SubscriptionStatus.ACTIVE
    assert canceling.ended_at is None
    assert canceling.current_period_end == subscription.current_period_end

    kept = await harness.gateway.set_cancel_at_period_end(
        canceling, False, idempotency_key="reactivate-1"
    )
    assert not kept.cancel_at_period_end
    assert kept.status is SubscriptionStatus.ACTIVE
    assert kept.ended_at is None


async def test_cancel_now_ends_the_subscription(harness: Harness) -> None:
    subscription = await subscribe(harness)
    canceling = await harness.gateway.set_cancel_at_period_end(
        subscription, True, idempotency_key="cancel-2"
    )

    ended = await harness.gateway.cancel_now(canceling, idempotency_key="end-1")

    assert ended.id == subscription.id
    assert ended.status is SubscriptionStatus.CANCELED
    assert ended.canceled_at == harness.clock.now()
    assert ended.ended_at == harness.clock.now()
    assert not ended.cancel_at_period_end
    assert ended.plan_code == ORGANIZER.code


async def test_the_first_card_becomes_the_default(harness: Harness) -> None:
    customer_id = await harness.customer()

    card = await harness.gateway.attach_card(
        customer_id, "pm_card_visa", make_default=False
    )

    assert card.id.startswith("pm_")
    assert card.id != "pm_card_visa"
    assert (card.brand, card.last4) == ("visa", "4242")
    assert card.is_default
    assert 1 <= card.exp_month <= 12
    assert card.exp_year > harness.clock.now().year
    assert await harness.gateway.list_cards(customer_id) == [card]


async def test_cards_are_listed_in_attach_order_with_one_default(
    harness: Harness,
) -> None:
    customer_id = await harness.customer()
    visa = await harness.gateway.attach_card(
        customer_id, "pm_card_visa", make_default=False
    )
    mastercard = await harness.gateway.attach_card(
        customer_id, "pm_card_mastercard", make_default=False
    )
    assert not mastercard.is_default
    assert (mastercard.brand, mastercard.last4) == ("mastercard", "4444")

    amex = await harness.gateway.attach_card(
        customer_id, "pm_card_amex", make_default=True
    )

    assert amex.is_default
    assert (amex.brand, amex.last4) == ("amex", "8431")
    assert await harness.gateway.list_cards(customer_id) == [
        replace(visa, is_default=False),
        mastercard,
        amex,
    ]


async def test_the_same_token_attached_twice_gives_two_cards(
    harness: Harness,
) -> None:
    customer_id = await harness.customer()

    first = await harness.gateway.attach_card(
        customer_id, "pm_card_visa", make_default=False
    )
    second = await harness.gateway.attach_card(
        customer_id, "pm_card_visa", make_default=False
    )

    assert first.id != second.id
    assert [c.id for c in await harness.gateway.list_cards(customer_id)] == [
        first.id,
        second.id,
    ]


async def test_cards_of_other_brands(harness: Harness) -> None:
    customer_id = await harness.customer()

    cards = [
        await harness.gateway.attach_card(customer_id, token, make_default=False)
        for token in ("pm_card_visa_debit", "pm_card_discover")
    ]

    assert [(c.brand, c.last4) for c in cards] == [
        ("visa", "5556"),
        ("discover", "1117"),
    ]


async def test_detaching_the_default_leaves_no_default(harness: Harness) -> None:
    customer_id = await harness.customer()
    visa = await harness.gateway.attach_card(
        customer_id, "pm_card_visa", make_default=True
    )
    mastercard = await harness.gateway.attach_card(
        customer_id, "pm_card_mastercard", make_default=False
    )

    await harness.gateway.detach_card(customer_id, visa.id)

    assert await harness.gateway.list_cards(customer_id) == [mastercard]
    assert not mastercard.is_default


async def test_detaching_an_unknown_card_is_not_found(harness: Harness) -> None:
    customer_id = await harness.customer()
    await harness.gateway.attach_card(customer_id, "pm_card_visa", make_default=True)

    with pytest.raises(NotFound) as caught:
        await harness.gateway.detach_card(customer_id, "pm_doesnotexist")

    assert caught.value.extra == {"resource": "payment_method"}
    assert len(await harness.gateway.list_cards(customer_id)) == 1


async def test_a_card_of_another_customer_cannot_be_detached(
    harness: Harness,
) -> None:
    owner = await harness.customer()
    stranger = await harness.customer()
    card = await harness.gateway.attach_card(owner, "pm_card_visa", make_default=True)

    with pytest.raises(NotFound):
        await harness.gateway.detach_card(stranger, card.id)

    assert await harness.gateway.list_cards(owner) == [card]


@pytest.mark.parametrize(
    "token",
    [
        "pm_card_chargeDeclined",
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        "pm_card_chargeDeclinedExpiredCard",
    ],
)
async def test_a_declined_card_is_refused(harness: Harness, token: str) -> None:
    customer_id = await harness.customer()

    with pytest.raises(ValidationFailed) as caught:
        await harness.gateway.attach_card(customer_id, token, make_default=True)

    assert field_codes(caught.value) == [("payment_method_id", "card_declined")]
    assert await harness.gateway.list_cards(customer_id) == []


async def test_an_unknown_payment_method_is_invalid(harness: Harness) -> None:
    customer_id = await harness.customer()

    with pytest.raises(ValidationFailed) as caught:
        await harness.gateway.attach_card(
            customer_id, "pm_not_a_token", make_default=True
        )

    assert field_codes(caught.value) == [("payment_method_id", "invalid")]


async def test_a_setup_intent_carries_its_client_secret(harness: Harness) -> None:
    customer_id = await harness.customer()

    intent = await harness.gateway.create_setup_intent(
        customer_id, idempotency_key="setup-1"
    )
    again = await harness.gateway.create_setup_intent(
        customer_id, idempotency_key="setup-1"
    )

    assert intent.id.startswith("seti_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert again == intent
