"""Concurrent starts of a plan by one account, through the core, on every backend."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

from adapters.memory import LocalPaymentGateway, MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.billing.ports import CheckoutRequest, CheckoutSession
from platform_core.billing.subscription import CheckoutStarted, Provider
from platform_core.identity.model import Principal
from platform_core.shared.errors import Conflict
from platform_core.uow import UnitOfWorkFactory
from tests.support import PASSWORD

STARTS = 20
ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    trial_days=14,
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: 5},
)


class SlowLocalGateway(LocalPaymentGateway):
    """The local gateway, giving way to other tasks as a network call would."""

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        await asyncio.sleep(0)
        return await super().start_checkout(request)


async def _new_account(uow_factory: UnitOfWorkFactory) -> tuple[Platform, Principal]:
    memory = MemoryAdapters()
    ports = dataclasses.replace(
        memory.ports(),
        uow_factory=uow_factory,
        payment_gateway=SlowLocalGateway(memory.clock),
    )
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    await platform.billing.upsert_plan(None, ORGANIZER)
    user, _ = await platform.identity.create_admin(
        email="ada@example.org", password=PASSWORD, first_name="Ada", last_name=""
    )
    return platform, Principal(user_id=user.id, session_id=uuid.uuid4())


async def test_of_twenty_concurrent_starts_exactly_one_subscribes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    platform, actor = await _new_account(uow_factory)

    async def start() -> CheckoutStarted | Conflict:
        try:
            return await platform.billing.subscribe(
                actor, plan_code="organizer", interval="month"
            )
        except Conflict as refused:
            return refused

    outcomes = await asyncio.gather(*(start() for _ in range(STARTS)))

    started = [o for o in outcomes if isinstance(o, CheckoutStarted)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(started) == 1
    assert len(refused) == STARTS - 1
    winner = started[0].view.subscription
    assert {r.code for r in refused} == {"already_subscribed"}
    assert {r.extra["subscription"] for r in refused} == {str(winner.id)}
    view = await platform.billing.subscription(actor)
    assert view.subscription.id == winner.id
    assert (view.subscription.plan_code, view.subscription.provider) == (
        "organizer",
        Provider.LOCAL,
    )
    async with uow_factory() as uow:
        audited = await uow.audit.count(
            actor_id=actor.user_id, action="billing.subscription.started"
        )
    assert audited == 1
