"""Refusing a request that a throttle holds back."""

from __future__ import annotations

import structlog

from platform_core.shared.errors import Throttled

log = structlog.get_logger(__name__)


def refuse_if_held(
    wait: int | None, *, event: str, message: str, client_address: str | None
) -> None:
    """Raise Throttled, logged as `event`, when a throttle answered a wait."""
    if wait is None:
        return
    log.warning(event, client_address=client_address, retry_after=wait)
    raise Throttled(message, retry_after=wait)
