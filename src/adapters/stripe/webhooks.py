"""Verifying Stripe webhook deliveries and reducing them to GatewayEvents."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import stripe

from adapters.stripe.objects import (
    account_id_from_metadata,
    id_of,
    mapping,
    timestamp,
    uuid_or_none,
)
from platform_core.billing.ports import GatewayEvent

DEFAULT_TOLERANCE_SECONDS = 300


class InvalidStripeWebhook(Exception):
    """A delivery that is not a fresh, genuine Stripe event; answer it with 400.

    `reason` is one of `missing_signature`, `invalid_signature`,
    `stale_signature` and `malformed_payload`.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_stripe_event(
    payload: bytes,
    signature_header: str | None,
    secret: str,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> GatewayEvent:
    """Verify the `Stripe-Signature` of a raw request body and read the event.

    The signature is checked with the SDK over the exact bytes received, so
    pass the body before any JSON parsing. A signature older than
    `tolerance_seconds` is refused as stale (replay protection).
    """
    if not secret.strip():
        raise ValueError("the Stripe webhook signing secret is empty")
    if not signature_header:
        raise InvalidStripeWebhook(
            "missing_signature", "The request has no Stripe-Signature header."
        )
    _verify(payload, signature_header, secret, tolerance_seconds)
    try:
        event = json.loads(payload)
    except ValueError as error:
        raise InvalidStripeWebhook(
            "malformed_payload", "The body is not JSON."
        ) from error
    return _reduce(event)


def _verify(payload: bytes, header: str, secret: str, tolerance: int) -> None:
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
    except UnicodeDecodeError as error:
        raise InvalidStripeWebhook(
            "malformed_payload", "The body is not UTF-8 text."
        ) from error
    except stripe.SignatureVerificationError as error:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, None)
        except stripe.SignatureVerificationError:
            raise InvalidStripeWebhook(
                "invalid_signature",
                "The Stripe-Signature does not match the body and secret.",
            ) from error
        raise InvalidStripeWebhook(
            "stale_signature",
            f"The signature is older than {tolerance} seconds.",
        ) from error


def _reduce(event: object) -> GatewayEvent:
    """Keep what billing acts on: which subscription, customer and account."""
    if not isinstance(event, Mapping) or event.get("object") != "event":
        raise InvalidStripeWebhook("malformed_payload", "The body is not an event.")
    event_id, event_type = event.get("id"), event.get("type")
    created = timestamp(event.get("created"))
    subject = mapping(event.get("data")).get("object")
    if (
        not isinstance(event_id, str)
        or not isinstance(event_type, str)
        or created is None
        or not isinstance(subject, Mapping)
    ):
        raise InvalidStripeWebhook(
            "malformed_payload", "The event lacks its id, type, created or object."
        )
    base = GatewayEvent(id=event_id, type=event_type, created=created)
    if event_type.startswith("checkout.session."):
        return _with_checkout(base, subject)
    if event_type.startswith("customer.subscription."):
        return _with_subscription(base, subject)
    if event_type.startswith("invoice."):
        return _with_invoice(base, subject)
    return base


def _with_checkout(base: GatewayEvent, session: Mapping[str, Any]) -> GatewayEvent:
    return GatewayEvent(
        id=base.id,
        type=base.type,
        created=base.created,
        checkout_session_id=id_of(session),
        subscription_id=id_of(session.get("subscription")),
        customer_id=id_of(session.get("customer")),
        account_id=uuid_or_none(session.get("client_reference_id"))
        or account_id_from_metadata(session.get("metadata")),
    )


def _with_subscription(
    base: GatewayEvent, subscription: Mapping[str, Any]
) -> GatewayEvent:
    return GatewayEvent(
        id=base.id,
        type=base.type,
        created=base.created,
        subscription_id=id_of(subscription),
        customer_id=id_of(subscription.get("customer")),
        account_id=account_id_from_metadata(subscription.get("metadata")),
    )


def _with_invoice(base: GatewayEvent, invoice: Mapping[str, Any]) -> GatewayEvent:
    """Invoices name their subscription in `subscription` before API 2025-03-31
    and in `parent.subscription_details.subscription` since."""
    details = mapping(mapping(invoice.get("parent")).get("subscription_details"))
    subscription_id = id_of(invoice.get("subscription")) or id_of(
        details.get("subscription")
    )
    return GatewayEvent(
        id=base.id,
        type=base.type,
        created=base.created,
        subscription_id=subscription_id,
        customer_id=id_of(invoice.get("customer")),
        account_id=account_id_from_metadata(details.get("metadata")),
    )
