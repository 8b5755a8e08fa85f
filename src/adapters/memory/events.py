"""Provider events when payments are local: there is no provider to hear from."""

from __future__ import annotations

from platform_core.billing.ports import GatewayEvent
from platform_core.shared.errors import NotConfigured


class NoProviderEvents:
    """Refuses every webhook: the local gateway sends none."""

    def verify(self, payload: bytes, signature: str | None) -> GatewayEvent:
        raise NotConfigured(
            "Stripe webhooks are not accepted: the platform runs with local "
            "payments (PLATFORM_PAYMENTS=local).",
            code="payments_not_configured",
        )
