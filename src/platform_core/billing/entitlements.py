"""Entitlements: may this account do X, and is there quota left?

Every other context asks here. The `*_in` methods work inside the caller's
unit of work, so the use they record commits or rolls back with the change
it paid for.
"""

from __future__ import annotations

from uuid import UUID

from platform_core.billing.ledger import UNLIMITED, Ledger, Mails
from platform_core.billing.model import Capability, Limit
from platform_core.billing.subscription import UsageLine
from platform_core.outbox.ports import MessageDispatcher
from platform_core.shared.errors import PermissionDenied, QuotaExceeded
from platform_core.uow import UnitOfWork, UnitOfWorkFactory


class Entitlements:
    """One capability check and one atomic consume, for every context."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        ledger: Ledger,
        dispatcher: MessageDispatcher,
    ) -> None:
        self._uow = uow_factory
        self._ledger = ledger
        self._dispatcher = dispatcher

    async def require(self, account_id: UUID, capability: Capability) -> None:
        """Raise `capability_missing` unless the account's plan has the capability."""
        mails = Mails()
        async with self._uow() as uow:
            await self.require_in(uow, account_id, capability, mails)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)

    async def consume(self, account_id: UUID, name: Limit) -> UsageLine:
        """Use one unit of a limit, or raise `quota_exceeded`."""
        mails = Mails()
        async with self._uow() as uow:
            line = await self.consume_in(uow, account_id, name, mails)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return line

    async def require_in(
        self,
        uow: UnitOfWork,
        account_id: UUID,
        capability: Capability,
        mails: Mails,
    ) -> None:
        subscription = await self._ledger.current(uow, account_id, mails)
        plan = await self._ledger.plan_of(uow, subscription)
        if not plan.allows(capability):
            raise PermissionDenied(
                f"Your plan ({plan.name}) does not include {capability.value}.",
                code="capability_missing",
                capability=capability.value,
                plan=plan.code,
            )

    async def consume_in(
        self, uow: UnitOfWork, account_id: UUID, name: Limit, mails: Mails
    ) -> UsageLine:
        """One conditional update: it succeeds only while usage is below the limit."""
        subscription = await self._ledger.current(uow, account_id, mails)
        plan = await self._ledger.plan_of(uow, subscription)
        limit = plan.limit(name)
        period_start = subscription.current_period_start
        period_end = subscription.current_period_end
        consumed = await uow.usage.consume(
            account_id, name, period_start, UNLIMITED if limit is None else limit
        )
        if not consumed:
            raise QuotaExceeded(
                f"Your plan ({plan.name}) allows {limit} {name.value}; "
                f"the quota renews on {period_end.isoformat()}.",
                limit_name=name.value,
                limit=limit,
                period_end=period_end.isoformat(),
            )
        used = await uow.usage.used(account_id, period_start)
        return UsageLine(used=used.get(name, 0), limit=limit, resets_at=period_end)

    async def release_in(
        self, uow: UnitOfWork, account_id: UUID, name: Limit, mails: Mails
    ) -> bool:
        """Give back one unit used in the current period (an undone creation)."""
        subscription = await self._ledger.current(uow, account_id, mails)
        return await uow.usage.release(
            account_id, name, subscription.current_period_start
        )

    async def per_event_cap_in(
        self, uow: UnitOfWork, account_id: UUID, name: Limit, mails: Mails
    ) -> int | None:
        """The organizer's cap on `name` per event; None when there is none.

        An account whose plan no longer makes it an organizer has no cap: it
        can create no more events, and the people coming to the ones it has
        are not turned away for its lapsed subscription.
        """
        subscription = await self._ledger.current(uow, account_id, mails)
        plan = await self._ledger.plan_of(uow, subscription)
        if not plan.allows(Capability.ORGANIZER):
            return None
        return plan.limit(name)

    async def refuse_past_cap_in(
        self,
        uow: UnitOfWork,
        account_id: UUID,
        name: Limit,
        current: int,
        mails: Mails,
    ) -> None:
        """Raise `quota_exceeded` when one more would pass the per-event cap."""
        cap = await self.per_event_cap_in(uow, account_id, name, mails)
        if cap is not None and current >= cap:
            raise QuotaExceeded(
                f"The organizer's plan allows {cap} {name.value}.",
                limit_name=name.value,
                limit=cap,
            )
