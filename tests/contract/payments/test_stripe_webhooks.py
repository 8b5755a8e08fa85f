"""Stripe webhook deliveries: signature checks and the events billing acts on."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest
import stripe

from adapters.stripe import InvalidStripeWebhook, parse_stripe_event
from tests.fakes.stripe_server import FakeStripe

from .conftest import PRICES, WEBHOOK_SECRET

PRICE = PRICES["organizer:month"]


def refusal(payload: bytes, header: str | None) -> str:
    """The reason parse_stripe_event gives for refusing the delivery."""
    with pytest.raises(InvalidStripeWebhook) as caught:
        parse_stripe_event(payload, header, WEBHOOK_SECRET)
    return caught.value.reason


def test_a_completed_checkout_names_session_subscription_and_account(
    fake: FakeStripe,
) -> None:
    account_id = uuid4()
    session = fake.create_completed_checkout(PRICE, account_id=str(account_id))
    delivery = fake.signed_event(
        "checkout.session.completed", session["id"], WEBHOOK_SECRET
    )

    event = parse_stripe_event(delivery.payload, delivery.signature, WEBHOOK_SECRET)

    assert event.id == delivery.event["id"]
    assert event.id.startswith("evt_")
    assert event.type == "checkout.session.completed"
    assert event.created == datetime.fromtimestamp(fake.now(), UTC)
    assert event.created.tzinfo is UTC
    assert event.checkout_session_id == session["id"]
    assert event.subscription_id == session["subscription"]
    assert event.customer_id == session["customer"]
    assert event.account_id == account_id


def test_an_expanded_subscription_in_a_checkout_event_is_read_by_id(
    fake: FakeStripe,
) -> None:
    session = fake.create_completed_checkout(PRICE, account_id=str(uuid4()))
    event = fake.event("checkout.session.completed", session["id"])
    event["data"]["object"]["subscription"] = fake.get(session["subscription"])
    event["data"]["object"]["customer"] = fake.get(session["customer"])
    payload = json.dumps(event).encode()

    parsed = parse_stripe_event(
        payload, fake.sign(payload, WEBHOOK_SECRET), WEBHOOK_SECRET
    )

    assert parsed.subscription_id == session["subscription"]
    assert parsed.customer_id == session["customer"]


@pytest.mark.parametrize(
    "event_type",
    [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
    ],
)
def test_subscription_events_name_subscription_customer_and_account(
    fake: FakeStripe, event_type: str
) -> None:
    account_id = uuid4()
    session = fake.create_completed_checkout(
        PRICE, account_id=str(account_id), trial_days=3
    )
    fake.update_subscription(session["subscription"], status="past_due")
    delivery = fake.signed_event(
        event_type,
        session["subscription"],
        WEBHOOK_SECRET,
        previous_attributes={"status": "trialing"},
    )

    event = parse_stripe_event(delivery.payload, delivery.signature, WEBHOOK_SECRET)

    assert delivery.event["data"]["object"]["status"] == "past_due"
    assert event.type == event_type
    assert event.subscription_id == session["subscription"]
    assert event.customer_id == session["customer"]
    assert event.account_id == account_id
    assert event.checkout_session_id is None


@pytest.mark.parametrize("legacy_shape", [False, True], ids=["parent", "legacy"])
@pytest.mark.parametrize("event_type", ["invoice.paid", "invoice.payment_failed"])
def test_invoice_events_of_either_api_shape_name_the_subscription(
    fake: FakeStripe, event_type: str, legacy_shape: bool
) -> None:
    session = fake.create_completed_checkout(PRICE, account_id=str(uuid4()))
    invoice = fake.create_invoice(session["subscription"], legacy_shape=legacy_shape)
    assert ("subscription" in invoice) is legacy_shape
    assert ("parent" in invoice) is not legacy_shape

    delivery = fake.signed_event(event_type, invoice["id"], WEBHOOK_SECRET)
    event = parse_stripe_event(delivery.payload, delivery.signature, WEBHOOK_SECRET)

    assert event.type == event_type
    assert event.subscription_id == session["subscription"]
    assert event.customer_id == session["customer"]
    assert event.checkout_session_id is None


def test_other_events_carry_only_id_type_and_time(fake: FakeStripe) -> None:
    session = fake.create_completed_checkout(PRICE, account_id=str(uuid4()))
    delivery = fake.signed_event(
        "customer.updated", session["customer"], WEBHOOK_SECRET
    )

    event = parse_stripe_event(delivery.payload, delivery.signature, WEBHOOK_SECRET)

    assert (event.id, event.type) == (delivery.event["id"], "customer.updated")
    assert event.created == datetime.fromtimestamp(fake.now(), UTC)
    assert (
        event.subscription_id,
        event.customer_id,
        event.account_id,
        event.checkout_session_id,
    ) == (None, None, None, None)


def test_the_fakes_signature_is_the_one_the_sdk_computes(fake: FakeStripe) -> None:
    payload = b'{"object": "event"}'

    expected = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), WEBHOOK_SECRET, timestamp=1_700_000_000
    )

    assert fake.sign(payload, WEBHOOK_SECRET, timestamp=1_700_000_000) == expected


def test_a_missing_signature_is_refused(fake: FakeStripe) -> None:
    session = fake.create_completed_checkout(PRICE)
    delivery = fake.signed_event(
        "checkout.session.completed", session["id"], WEBHOOK_SECRET
    )

    assert refusal(delivery.payload, None) == "missing_signature"
    assert refusal(delivery.payload, "") == "missing_signature"


def test_a_signature_with_another_secret_is_refused(fake: FakeStripe) -> None:
    session = fake.create_completed_checkout(PRICE)
    delivery = fake.signed_event(
        "checkout.session.completed", session["id"], "whsec_someone_else"
    )

    assert refusal(delivery.payload, delivery.signature) == "invalid_signature"


def test_a_changed_body_is_refused(fake: FakeStripe) -> None:
    session = fake.create_completed_checkout(PRICE)
    delivery = fake.signed_event(
        "checkout.session.completed", session["id"], WEBHOOK_SECRET
    )
    tampered = delivery.payload.replace(b"checkout.session.completed", b"invoice.paid")

    assert refusal(tampered, delivery.signature) == "invalid_signature"


@pytest.mark.parametrize("header", ["nonsense", "t=abc,v1=00", "t=1700000000"])
def test_a_garbled_header_is_refused(fake: FakeStripe, header: str) -> None:
    session = fake.create_completed_checkout(PRICE)
    delivery = fake.signed_event(
        "checkout.session.completed", session["id"], WEBHOOK_SECRET
    )

    assert refusal(delivery.payload, header) == "invalid_signature"


def test_a_stale_signature_is_refused(fake: FakeStripe) -> None:
    session = fake.create_completed_checkout(PRICE)
    delivery = fake.signed_event(
        "checkout.session.completed",
        session["id"],
        WEBHOOK_SECRET,
        timestamp=int(time.time()) - 301,
    )

    assert refusal(delivery.payload, delivery.signature) == "stale_signature"


def test_the_tolerance_can_be_widened(fake: FakeStripe) -> None:
    session = fake.create_completed_checkout(PRICE)
    delivery = fake.signed_event(
        "checkout.session.completed",
        session["id"],
        WEBHOOK_SECRET,
        timestamp=int(time.time()) - 600,
    )

    event = parse_stripe_event(
        delivery.payload, delivery.signature, WEBHOOK_SECRET, tolerance_seconds=900
    )

    assert event.checkout_session_id == session["id"]


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"object": "customer", "id": "cus_1"}',
        b'{"object": "event", "id": "evt_1", "type": "invoice.paid"}',
        b'{"object": "event", "id": "evt_1", "type": "x", "created": 1, "data": {}}',
    ],
)
def test_a_correctly_signed_body_that_is_no_event_is_refused(
    fake: FakeStripe, payload: bytes
) -> None:
    assert refusal(payload, fake.sign(payload, WEBHOOK_SECRET)) == "malformed_payload"


def test_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="secret"):
        parse_stripe_event(b"{}", "t=1,v1=00", " ")
