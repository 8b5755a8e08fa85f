"""What only the Stripe gateway does: idempotency keys on the wire, the requests
Stripe receives, status mapping, and Stripe being unreachable."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
import stripe

from adapters.memory import ManualClock
from adapters.stripe import StripeGateway, StripePrices, build_stripe_client
from platform_core.billing.model import Interval
from platform_core.billing.ports import (
    CheckoutRequest,
    GatewaySubscription,
    PaymentRequest,
)
from platform_core.billing.subscription import SubscriptionStatus, add_months
from platform_core.shared.errors import NotConfigured, NotFound, ProviderUnavailable
from tests.fakes.stripe_server import FakeStripe

from .conftest import ORGANIZER, ORGANIZER_PRO, SDK_WARNINGS, stripe_gateway

pytestmark = SDK_WARNINGS


@pytest.fixture
def gateway(
    fake: FakeStripe, http_client: stripe.HTTPXClient, clock: ManualClock
) -> StripeGateway:
    return stripe_gateway(fake, http_client, clock)


def checkout_request(
    account_id: UUID, customer_id: str, *, trial_days: int = 0, key: str = "co-1"
) -> CheckoutRequest:
    return CheckoutRequest(
        account_id=account_id,
        customer_id=customer_id,
        plan=ORGANIZER,
        interval=Interval.MONTH,
        trial_days=trial_days,
        success_url="https://app.test/done",
        cancel_url="https://app.test/billing",
        idempotency_key=key,
    )


async def subscribe(
    gateway: StripeGateway, fake: FakeStripe, *, trial_days: int = 0
) -> GatewaySubscription:
    account_id = uuid4()
    customer_id = await gateway.create_customer(
        account_id=account_id,
        email="ada@example.org",
        name="Ada Lovelace",
        idempotency_key="customer-1",
    )
    session = await gateway.start_checkout(
        checkout_request(account_id, customer_id, trial_days=trial_days)
    )
    fake.complete_checkout(session.id)
    finished = await gateway.retrieve_checkout(session.id)
    assert finished is not None
    assert finished.subscription is not None
    return finished.subscription


def keys_sent(fake: FakeStripe, method: str, path: str) -> list[str | None]:
    return [
        r.idempotency_key for r in fake.requests if (r.method, r.path) == (method, path)
    ]


# -- idempotency ---------------------------------------------------------------


async def test_every_create_and_change_sends_the_callers_key(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)
    await gateway.create_setup_intent(subscription.customer_id, idempotency_key="si-1")
    await gateway.change_plan(
        subscription, ORGANIZER_PRO, Interval.MONTH, idempotency_key="change-1"
    )
    await gateway.set_cancel_at_period_end(
        subscription, True, idempotency_key="cancel-1"
    )
    await gateway.cancel_now(subscription, idempotency_key="end-1")

    sub_path = f"/v1/subscriptions/{subscription.id}"
    assert keys_sent(fake, "POST", "/v1/customers") == ["customer-1"]
    assert keys_sent(fake, "POST", "/v1/checkout/sessions") == ["co-1"]
    assert keys_sent(fake, "POST", "/v1/setup_intents") == ["si-1"]
    assert keys_sent(fake, "POST", sub_path) == ["change-1", "cancel-1"]
    assert keys_sent(fake, "DELETE", sub_path) == ["end-1"]
    assert all(r.idempotency_key for r in fake.requests if r.method == "POST")


async def test_replaying_a_key_returns_the_first_object(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    account_id = uuid4()
    first = await gateway.create_customer(
        account_id=account_id, email="a@example.org", name="A", idempotency_key="k"
    )
    again = await gateway.create_customer(
        account_id=account_id, email="a@example.org", name="A", idempotency_key="k"
    )

    assert again == first
    assert [r.outcome for r in fake.requests] == ["ok", "replayed"]


async def test_a_retried_request_carries_the_same_key(
    fake: FakeStripe, http_client: stripe.HTTPXClient, clock: ManualClock
) -> None:
    gateway = stripe_gateway(fake, http_client, clock, max_network_retries=1)
    fake.fail_next(1, status=503)

    customer_id = await gateway.create_customer(
        account_id=uuid4(), email="a@example.org", name="A", idempotency_key="k-9"
    )

    assert customer_id.startswith("cus_")
    assert [(r.outcome, r.idempotency_key) for r in fake.requests] == [
        ("failed", "k-9"),
        ("ok", "k-9"),
    ]


# -- what Stripe receives --------------------------------------------------------


async def test_a_checkout_asks_for_a_subscription_to_the_plans_price(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    account_id = uuid4()
    customer_id = await gateway.create_customer(
        account_id=account_id, email="a@example.org", name="A", idempotency_key="c"
    )

    await gateway.start_checkout(
        checkout_request(account_id, customer_id, trial_days=14)
    )

    sent = next(r for r in fake.requests if r.path == "/v1/checkout/sessions")
    assert sent.params == {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(account_id),
        "line_items": [{"price": "price_organizer_month", "quantity": "1"}],
        "subscription_data": {
            "metadata": {"account_id": str(account_id)},
            "trial_period_days": "14",
            "trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}},
        },
        "metadata": {"account_id": str(account_id)},
        "success_url": "https://app.test/done",
        "cancel_url": "https://app.test/billing",
    }


async def test_a_checkout_without_trial_sends_no_trial(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    account_id = uuid4()
    customer_id = await gateway.create_customer(
        account_id=account_id, email="a@example.org", name="A", idempotency_key="c"
    )

    await gateway.start_checkout(checkout_request(account_id, customer_id))

    sent = next(r for r in fake.requests if r.path == "/v1/checkout/sessions")
    assert sent.params["subscription_data"] == {
        "metadata": {"account_id": str(account_id)}
    }


async def test_retrieving_a_checkout_expands_its_subscription(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    await subscribe(gateway, fake)

    sent = [r for r in fake.requests if r.path.startswith("/v1/checkout/sessions/")]
    assert [r.params for r in sent] == [{"expand": ["subscription"]}]
    assert not any(r.path.startswith("/v1/subscriptions/") for r in fake.requests)


async def test_a_plan_change_swaps_the_items_price_with_proration(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)

    await gateway.change_plan(
        subscription, ORGANIZER_PRO, Interval.YEAR, idempotency_key="change-1"
    )

    sent = fake.requests[-1]
    assert (sent.method, sent.path) == ("POST", f"/v1/subscriptions/{subscription.id}")
    assert sent.params == {
        "items": [{"id": subscription.item_id, "price": "price_organizer_pro_year"}],
        "proration_behavior": "create_prorations",
    }


async def test_a_plan_change_without_a_known_item_reads_it_first(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)
    changed = await gateway.change_plan(
        replace(subscription, item_id=None),
        ORGANIZER_PRO,
        Interval.MONTH,
        idempotency_key="change-2",
    )

    assert changed.plan_code == ORGANIZER_PRO.code
    assert changed.item_id == subscription.item_id


async def test_a_plan_without_a_configured_price_is_not_configured(
    fake: FakeStripe, http_client: stripe.HTTPXClient, clock: ManualClock
) -> None:
    gateway = stripe_gateway(
        fake, http_client, clock, prices=StripePrices({"other:month": "price_other"})
    )

    with pytest.raises(NotConfigured):
        await gateway.start_checkout(checkout_request(uuid4(), "cus_whoever"))

    assert fake.requests == []


# -- reading Stripe's state -------------------------------------------------------


async def test_the_checkout_card_is_the_subscriptions_default(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)

    cards = await gateway.list_cards(subscription.customer_id)

    assert [c.id for c in cards] == [subscription.default_payment_method]
    assert [c.is_default for c in cards] == [True]


async def test_after_checkout_a_new_card_is_default_only_when_asked(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)
    customer_id = subscription.customer_id

    second = await gateway.attach_card(
        customer_id, "pm_card_mastercard", make_default=False
    )
    kept = await gateway.list_cards(customer_id)
    third = await gateway.attach_card(customer_id, "pm_card_amex", make_default=True)
    moved = await gateway.list_cards(customer_id)

    assert not second.is_default
    assert [(c.id, c.is_default) for c in kept] == [
        (subscription.default_payment_method, True),
        (second.id, False),
    ]
    assert third.is_default
    assert [c.id for c in moved if c.is_default] == [third.id]
    assert fake.get(subscription.id)["default_payment_method"] == third.id
    customer = fake.get(customer_id)
    assert customer["invoice_settings"]["default_payment_method"] == third.id


@pytest.mark.parametrize(
    ("stripe_status", "expected"),
    [
        ("trialing", SubscriptionStatus.TRIALING),
        ("active", SubscriptionStatus.ACTIVE),
        ("past_due", SubscriptionStatus.PAST_DUE),
        ("canceled", SubscriptionStatus.CANCELED),
        ("incomplete", SubscriptionStatus.INCOMPLETE),
        ("incomplete_expired", SubscriptionStatus.CANCELED),
        ("unpaid", SubscriptionStatus.PAST_DUE),
        ("paused", SubscriptionStatus.INCOMPLETE),
    ],
)
async def test_stripe_statuses_map_to_the_platforms(
    gateway: StripeGateway,
    fake: FakeStripe,
    stripe_status: str,
    expected: SubscriptionStatus,
) -> None:
    subscription = await subscribe(gateway, fake)
    fake.update_subscription(subscription.id, status=stripe_status)

    state = await gateway.retrieve_subscription(subscription)

    assert state is not None
    assert state.status is expected


async def test_a_new_period_is_read_from_the_subscription_item(
    gateway: StripeGateway, fake: FakeStripe, clock: ManualClock
) -> None:
    subscription = await subscribe(gateway, fake, trial_days=7)

    fake.advance_period(subscription.id)
    state = await gateway.retrieve_subscription(subscription)

    assert state is not None
    assert state.status is SubscriptionStatus.ACTIVE
    assert state.current_period_start == clock.now() + timedelta(days=7)
    assert state.current_period_end == add_months(state.current_period_start, 1)
    assert state.trial_end == clock.now() + timedelta(days=7)


async def test_a_price_not_in_the_map_has_no_plan(
    fake: FakeStripe,
    http_client: stripe.HTTPXClient,
    clock: ManualClock,
    gateway: StripeGateway,
) -> None:
    subscription = await subscribe(gateway, fake)
    blind = stripe_gateway(
        fake, http_client, clock, prices=StripePrices({"other:month": "price_other"})
    )

    state = await blind.retrieve_subscription(subscription)

    assert state is not None
    assert (state.plan_code, state.interval) == (None, None)
    assert state.status is SubscriptionStatus.ACTIVE


async def test_an_unknown_subscription_is_none(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)
    assert (
        await gateway.retrieve_subscription(replace(subscription, id="sub_x")) is None
    )
    assert await gateway.retrieve_subscription(replace(subscription, id="")) is None


async def test_canceling_a_canceled_subscription_returns_it(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)
    fake.update_subscription(subscription.id, status="canceled")

    state = await gateway.cancel_now(subscription, idempotency_key="end-2")

    assert state.status is SubscriptionStatus.CANCELED
    assert state.ended_at is not None


async def test_changing_a_canceled_subscription_is_not_found(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    subscription = await subscribe(gateway, fake)
    await gateway.cancel_now(subscription, idempotency_key="end-3")

    with pytest.raises(NotFound) as caught:
        await gateway.set_cancel_at_period_end(
            subscription, True, idempotency_key="cancel-3"
        )

    assert caught.value.extra == {"resource": "subscription"}


async def test_live_subscriptions_are_the_customers_not_canceled_newest_first(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    account_id = uuid4()
    customer_id = await gateway.create_customer(
        account_id=account_id,
        email="ada@example.org",
        name="Ada Lovelace",
        idempotency_key="customer-live",
    )
    made = []
    for key in ("co-a", "co-b", "co-c"):
        session = await gateway.start_checkout(
            checkout_request(account_id, customer_id, key=key)
        )
        made.append(fake.complete_checkout(session.id)["id"])
    await subscribe(gateway, fake)
    first = await gateway.retrieve_subscription(
        GatewaySubscription(
            id=made[0],
            customer_id=customer_id,
            status=SubscriptionStatus.ACTIVE,
            current_period_start=fake_now(fake),
            current_period_end=fake_now(fake),
        )
    )
    assert first is not None
    await gateway.cancel_now(first, idempotency_key="end-live")

    live = await gateway.live_subscriptions(customer_id)

    assert [s.id for s in live] == [made[2], made[1]]
    assert {s.customer_id for s in live} == {customer_id}
    assert {s.plan_code for s in live} == {ORGANIZER.code}
    assert await gateway.live_subscriptions("") == []
    assert await gateway.live_subscriptions("cus_nobody") == []


async def test_a_card_for_an_unknown_customer_is_not_found(
    gateway: StripeGateway,
) -> None:
    with pytest.raises(NotFound) as caught:
        await gateway.attach_card("cus_nobody", "pm_card_visa", make_default=True)

    assert caught.value.extra == {"resource": "customer"}


# -- Stripe unreachable -----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_a_failing_stripe_is_unavailable(
    gateway: StripeGateway, fake: FakeStripe, status: int
) -> None:
    fake.fail_next(1, status=status)

    with pytest.raises(ProviderUnavailable):
        await gateway.create_customer(
            account_id=uuid4(), email="a@example.org", name="A", idempotency_key="k"
        )


async def test_a_dropped_connection_is_unavailable(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    customer_id = await gateway.create_customer(
        account_id=uuid4(), email="a@example.org", name="A", idempotency_key="k"
    )
    fake.drop_next()

    with pytest.raises(ProviderUnavailable):
        await gateway.list_cards(customer_id)

    assert fake.requests[-1].outcome == "dropped"


async def test_retries_give_up_after_the_configured_number(
    fake: FakeStripe, http_client: stripe.HTTPXClient, clock: ManualClock
) -> None:
    gateway = stripe_gateway(fake, http_client, clock, max_network_retries=1)
    fake.fail_next(2)

    with pytest.raises(ProviderUnavailable):
        await gateway.create_setup_intent("cus_whoever", idempotency_key="si-2")

    assert [r.outcome for r in fake.requests] == ["failed", "failed"]


async def test_nothing_listening_is_unavailable(
    http_client: stripe.HTTPXClient, clock: ManualClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = build_stripe_client(
        "sk_test_x",
        api_base=f"http://127.0.0.1:{port}",
        max_network_retries=0,
        http_client=http_client,
    )
    gateway = StripeGateway(client, StripePrices({}), clock=clock)

    with pytest.raises(ProviderUnavailable):
        await gateway.retrieve_checkout("cs_test_1")


async def test_a_refused_api_key_is_not_configured(
    fake: FakeStripe, http_client: stripe.HTTPXClient, clock: ManualClock
) -> None:
    gateway = stripe_gateway(fake, http_client, clock, secret_key="rk_wrong")

    with pytest.raises(NotConfigured):
        await gateway.create_customer(
            account_id=uuid4(), email="a@example.org", name="A", idempotency_key="k"
        )


def fake_now(fake: FakeStripe) -> datetime:
    return datetime.fromtimestamp(fake.now(), UTC)


# -- refunds -------------------------------------------------------------------


def payment_request(key: str = "pay-1") -> PaymentRequest:
    return PaymentRequest(
        reference=uuid4(),
        amount=2_500,
        currency="EUR",
        description="Cardiology update",
        email="grace@example.org",
        success_url="https://app.test/paid",
        cancel_url="https://app.test/event",
        idempotency_key=key,
    )


async def test_a_paid_checkout_is_refunded_in_full_once(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    payment = await gateway.start_payment(payment_request())
    fake.complete_payment(payment.id)

    first = await gateway.refund_payment(payment.id)
    again = await gateway.refund_payment(payment.id)

    assert first is again is True
    [refund] = fake.refunds_of(payment.id)
    assert (refund["amount"], refund["currency"]) == (2_500, "eur")
    assert keys_sent(fake, "POST", "/v1/refunds") == [f"refund:{payment.id}"] * 2


async def test_a_refund_whose_key_expired_counts_as_done(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    payment = await gateway.start_payment(payment_request())
    fake.complete_payment(payment.id)
    await gateway.refund_payment(payment.id)
    fake.forget_idempotency_keys()

    assert await gateway.refund_payment(payment.id) is True
    assert len(fake.refunds_of(payment.id)) == 1


async def test_nothing_collected_is_nothing_to_refund(
    gateway: StripeGateway, fake: FakeStripe
) -> None:
    open_checkout = await gateway.start_payment(payment_request("pay-1"))
    pending = await gateway.start_payment(payment_request("pay-2"))
    fake.complete_payment(pending.id, delayed=True)

    assert await gateway.refund_payment(open_checkout.id) is False
    assert await gateway.refund_payment(pending.id) is False
    assert await gateway.refund_payment("cs_test_unknown") is False
    assert keys_sent(fake, "POST", "/v1/refunds") == []
