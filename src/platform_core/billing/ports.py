"""What the billing context needs from the outside."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from platform_core.billing.model import Plan


class PlanRepository(Protocol):
    """The plan catalogue, keyed by plan code."""

    async def list(self, *, public_only: bool = False) -> Sequence[Plan]:
        """Ordered by sort order, then code."""
        ...

    async def get(self, code: str) -> Plan | None: ...

    async def upsert(self, plan: Plan) -> bool:
        """Insert or replace; true when the plan is new."""
        ...
