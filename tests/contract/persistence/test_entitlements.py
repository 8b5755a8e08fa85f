"""Entitlement checks and quota consumption through the core, on every backend."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import structlog

from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.identity.model import Principal
from platform_core.shared.errors import QuotaExceeded
from platform_core.uow import UnitOfWorkFactory
from tests.support import PASSWORD

log = structlog.get_logger(__name__)

QUOTA = 10
CONSUMERS = 50
TEN_EVENTS = Plan(
    code="ten",
    name="Ten events",
    prices=(Price(Interval.MONTH, 1000, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: QUOTA},
)


async def _organizer(uow_factory: UnitOfWorkFactory) -> tuple[Platform, Principal]:
    """A core on this backend, with an account subscribed to a quota of ten."""
    memory = MemoryAdapters()
    ports = dataclasses.replace(memory.ports(), uow_factory=uow_factory)
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    await platform.billing.upsert_plan(None, TEN_EVENTS)
    user, _ = await platform.identity.create_admin(
        email="ada@example.org", password=PASSWORD, first_name="Ada", last_name=""
    )
    actor = Principal(user_id=user.id, session_id=uuid.uuid4())
    await platform.billing.subscribe(actor, plan_code="ten", interval="month")
    return platform, actor


async def test_fifty_concurrent_consumers_of_a_quota_of_ten_get_exactly_ten(
    uow_factory: UnitOfWorkFactory, backend: str
) -> None:
    platform, actor = await _organizer(uow_factory)

    async def one() -> bool:
        try:
            await platform.entitlements.consume(actor.user_id, Limit.EVENTS_PER_PERIOD)
        except QuotaExceeded:
            return False
        return True

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one() for _ in range(CONSUMERS)))
    elapsed = time.perf_counter() - started

    log.info(
        "entitlements.concurrency",
        backend=backend,
        consumers=CONSUMERS,
        granted=sum(outcomes),
        refused=outcomes.count(False),
        seconds=round(elapsed, 3),
    )
    assert sum(outcomes) == QUOTA
    view = await platform.billing.subscription(actor)
    assert view.usage["events_per_period"].used == QUOTA


async def test_concurrent_first_reads_give_one_current_subscription(
    uow_factory: UnitOfWorkFactory,
) -> None:
    memory = MemoryAdapters()
    ports = dataclasses.replace(memory.ports(), uow_factory=uow_factory)
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    user, _ = await platform.identity.create_admin(
        email="ada@example.org", password=PASSWORD, first_name="Ada", last_name=""
    )
    actor = Principal(user_id=user.id, session_id=uuid.uuid4())

    views = await asyncio.gather(
        *(platform.billing.subscription(actor) for _ in range(10))
    )

    assert len({view.subscription.id for view in views}) == 1
