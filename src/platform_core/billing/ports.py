"""What the billing context needs from the outside."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from platform_core.billing.model import Limit, Plan


class PlanRepository(Protocol):
    """The plan catalogue, keyed by plan code."""

    async def list(self, *, public_only: bool = False) -> Sequence[Plan]:
        """Ordered by sort order, then code."""
        ...

    async def get(self, code: str) -> Plan | None: ...

    async def upsert(self, plan: Plan) -> bool:
        """Insert or replace; true when the plan is new."""
        ...


class UsageRepository(Protocol):
    """Counters of limited things per account and billing period."""

    async def consume(
        self, account_id: UUID, name: Limit, period_start: datetime, limit: int
    ) -> bool:
        """Add one use if the count is below `limit`, in one conditional update.

        Under any number of concurrent callers, exactly `limit` succeed.
        """
        ...

    async def release(
        self, account_id: UUID, name: Limit, period_start: datetime
    ) -> bool:
        """Give one use back, never going below zero; false if there was none."""
        ...

    async def used(
        self, account_id: UUID, period_start: datetime
    ) -> Mapping[Limit, int]:
        """How much of each limit the account used in the period."""
        ...
