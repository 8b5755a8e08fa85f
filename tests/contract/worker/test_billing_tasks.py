"""The billing jobs as taskiq tasks: names, schedules and runs on a broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

from taskiq import InMemoryBroker

from adapters.worker import (
    PeriodicJob,
    build_broker,
    build_scheduler,
    register_billing_tasks,
    run_billing_round,
    run_scheduler,
)
from adapters.worker.billing import (
    EXPIRE_HOLDS_TASK,
    EXPIRE_OFFERS_TASK,
    EXPIRE_TRIALS_TASK,
    NOTIFY_TASK,
    RESET_USAGE_TASK,
    SYNC_TASK,
)
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.identity.model import Principal
from tests.support import PASSWORD

from .support import Wired, eventually, wire

STARTER = Plan(
    code="starter",
    name="Starter",
    prices=(Price(Interval.MONTH, 900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: 1},
)
TRIAL = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    trial_days=14,
    capabilities=frozenset({Capability.ORGANIZER}),
)


def in_memory_broker() -> InMemoryBroker:
    broker = build_broker(None)
    assert isinstance(broker, InMemoryBroker)
    return broker


async def _organizer(core: Wired, plan: Plan) -> Principal:
    await core.platform.billing.upsert_plan(None, plan)
    user, _ = await core.platform.identity.create_admin(
        email="ada@example.org", password=PASSWORD, first_name="Ada", last_name=""
    )
    actor = Principal(user_id=user.id, session_id=uuid.uuid4())
    await core.platform.billing.subscribe(actor, plan_code=plan.code, interval="month")
    return actor


async def _plan_code(core: Wired, actor: Principal) -> str:
    return (await core.platform.billing.subscription(actor)).subscription.plan_code


class TestRegistration:
    def test_jobs_carry_the_names_of_the_workflow_inventory(self) -> None:
        broker = in_memory_broker()
        tasks = register_billing_tasks(broker, lambda: wire(broker).platform)

        assert {
            tasks.reset_usage.task_name,
            tasks.expire_trials.task_name,
            tasks.sync.task_name,
            tasks.notify.task_name,
        } == {
            "billing.tasks.reset_subscription_usage",
            "billing.tasks.expire_trials",
            "billing.tasks.sync_stripe_subscription",
            "billing.tasks.notify_trials_ending",
        }
        assert {RESET_USAGE_TASK, EXPIRE_TRIALS_TASK, SYNC_TASK, NOTIFY_TASK} <= set(
            broker.get_all_tasks()
        )

    def test_schedules_run_each_job_and_reconcile_at_most_hourly(self) -> None:
        broker = in_memory_broker()
        tasks = register_billing_tasks(broker, lambda: wire(broker).platform)

        intervals = {s.task_name: s.interval for s in tasks.schedules(300)}

        assert intervals == {
            RESET_USAGE_TASK: 300,
            EXPIRE_TRIALS_TASK: 300,
            NOTIFY_TASK: 300,
            EXPIRE_HOLDS_TASK: 300,
            EXPIRE_OFFERS_TASK: 300,
            SYNC_TASK: 3600,
        }


class TestRunning:
    async def test_the_expire_task_ends_a_trial_without_a_card(self) -> None:
        broker = in_memory_broker()
        core = wire(broker)
        tasks = register_billing_tasks(broker, lambda: core.platform)
        actor = await _organizer(core, TRIAL)
        core.memory.clock.advance(timedelta(days=15))

        await tasks.expire_trials.kiq()
        await broker.wait_all()

        assert await _plan_code(core, actor) == "attendee"
        await eventually(lambda: "ada@example.org" in core.delivered_to())

    async def test_sync_of_one_unknown_or_malformed_id_changes_nothing(self) -> None:
        broker = in_memory_broker()
        core = wire(broker)
        tasks = register_billing_tasks(broker, lambda: core.platform)

        handle = await tasks.sync.kiq("not-a-uuid")
        result = await handle.wait_result(timeout=5)

        assert result.return_value == {"job": "sync", "examined": 0, "changed": 0}

    async def test_the_scheduler_kicks_the_usage_reset(self) -> None:
        broker = in_memory_broker()
        core = wire(broker)
        billing = register_billing_tasks(broker, lambda: core.platform)
        actor = await _organizer(core, STARTER)
        await core.platform.billing.cancel(actor)
        core.memory.clock.advance(timedelta(days=40))
        scheduler = build_scheduler(
            core.tasks, drain_every_seconds=60, extra=billing.schedules(1)
        )

        running = asyncio.create_task(run_scheduler(scheduler))
        try:
            await eventually(lambda: len(core.memory.store.tables.subscriptions) == 2)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(running, 5)
        assert await _plan_code(core, actor) == "attendee"

    async def test_the_in_process_loop_runs_every_job(self) -> None:
        core = wire(in_memory_broker())
        actor = await _organizer(core, STARTER)
        await core.platform.billing.cancel(actor)
        core.memory.clock.advance(timedelta(days=40))
        rounds: list[list[str]] = []

        async def round_() -> None:
            rounds.append([s.job for s in await run_billing_round(core.platform)])

        loop = PeriodicJob("billing.jobs", round_, interval=0.05)
        loop.start()
        try:
            await eventually(lambda: len(rounds) >= 2)
        finally:
            await loop.stop()

        assert rounds[0] == [
            "reset-usage",
            "expire-trials",
            "reconcile",
            "notify",
            "expire-holds",
            "expire-offers",
        ]
        assert await _plan_code(core, actor) == "attendee"
