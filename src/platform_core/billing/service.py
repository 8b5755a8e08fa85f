"""Use cases of the billing context."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.model import Plan
from platform_core.identity.model import Principal
from platform_core.shared.clock import Clock
from platform_core.shared.errors import NotFound, PermissionDenied
from platform_core.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class BillingService:
    """The plan catalogue; subscriptions and entitlements build on it."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def list_plans(self) -> Sequence[Plan]:
        """Every public plan a person can choose."""
        async with self._uow() as uow:
            return await uow.plans.list(public_only=True)

    async def list_all_plans(self) -> Sequence[Plan]:
        """Every plan, hidden ones included, for operators."""
        async with self._uow() as uow:
            return await uow.plans.list()

    async def get_plan(self, code: str) -> Plan:
        async with self._uow() as uow:
            plan = await uow.plans.get(code)
        if plan is None:
            raise NotFound(f"No plan has the code {code!r}.", resource="plan")
        return plan

    async def upsert_plan(self, actor: Principal | None, plan: Plan) -> bool:
        """Create or replace a plan; `actor` None is the operator's command line."""
        if actor is not None and not actor.is_staff:
            raise PermissionDenied("Only staff may change plans.")
        async with self._uow() as uow:
            created = await uow.plans.upsert(plan)
            await write_audit(
                uow.audit,
                "billing.plan.created" if created else "billing.plan.updated",
                at=self._clock.now(),
                actor_id=actor.user_id if actor else None,
                target_type="plan",
                target_id=plan.code,
                client=None,
            )
            await uow.commit()
        log.info("billing.plan.saved", plan=plan.code, created=created)
        return created
