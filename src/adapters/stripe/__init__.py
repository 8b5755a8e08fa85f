"""Stripe: the payment gateway, its price map, and webhook verification."""

from adapters.stripe.gateway import StripeGateway, build_stripe_client
from adapters.stripe.prices import StripePrices
from adapters.stripe.webhooks import InvalidStripeWebhook, parse_stripe_event

__all__ = [
    "InvalidStripeWebhook",
    "StripeGateway",
    "StripePrices",
    "build_stripe_client",
    "parse_stripe_event",
]
