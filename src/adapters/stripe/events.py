"""Stripe webhooks behind the core's ProviderEventVerifier port."""

from __future__ import annotations

from adapters.stripe.webhooks import InvalidStripeWebhook, parse_stripe_event
from platform_core.billing.ports import GatewayEvent, InvalidProviderEvent


class StripeEventVerifier:
    """Verifies `Stripe-Signature` with the endpoint's signing secret."""

    def __init__(self, secret: str, *, tolerance_seconds: int) -> None:
        self._secret = secret
        self._tolerance = tolerance_seconds

    def verify(self, payload: bytes, signature: str | None) -> GatewayEvent:
        try:
            return parse_stripe_event(
                payload, signature, self._secret, tolerance_seconds=self._tolerance
            )
        except InvalidStripeWebhook as error:
            raise InvalidProviderEvent(error.detail, reason=error.reason) from error
