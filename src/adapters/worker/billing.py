"""The billing jobs as taskiq tasks, their schedules, and an in-process runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, ScheduledTask

from adapters.worker.tasks import PlatformProvider
from platform_core.billing.service import JobSummary
from platform_core.platform import Platform

log = structlog.get_logger(__name__)

RESET_USAGE_TASK = "billing.tasks.reset_subscription_usage"
EXPIRE_TRIALS_TASK = "billing.tasks.expire_trials"
SYNC_TASK = "billing.tasks.sync_stripe_subscription"
NOTIFY_TASK = "billing.tasks.notify_trials_ending"
EXPIRE_HOLDS_TASK = "registrations.tasks.expire_holds"
EXPIRE_OFFERS_TASK = "registrations.tasks.expire_offers"

Job = Callable[[Platform], Awaitable[JobSummary]]

BILLING_JOBS: dict[str, Job] = {
    "reset-usage": lambda platform: platform.billing.reset_usage(),
    "expire-trials": lambda platform: platform.billing.expire_trials(),
    "reconcile": lambda platform: platform.billing.reconcile(),
    "notify": lambda platform: platform.billing.notify_trials_ending(),
}
"""Every billing job by its command-line name, in the order a round runs them."""

REGISTRATION_JOBS: dict[str, Job] = {
    "expire-holds": lambda platform: platform.registrations.expire_holds(),
    "expire-offers": lambda platform: platform.registration_admin.expire_offers(),
}
"""Registration jobs that run with the billing round, by command-line name."""

_JobTask = AsyncTaskiqDecoratedTask[[], Coroutine[Any, Any, dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class BillingTasks:
    broker: AsyncBroker
    reset_usage: _JobTask
    expire_trials: _JobTask
    notify: _JobTask
    expire_holds: _JobTask
    expire_offers: _JobTask
    sync: AsyncTaskiqDecoratedTask[[str | None], Coroutine[Any, Any, dict[str, Any]]]

    def schedules(self, every_seconds: int) -> list[ScheduledTask]:
        """Each job every `every_seconds`; reconciling with Stripe hourly at most."""
        return [
            ScheduledTask(
                task_name=task.task_name,
                labels={},
                args=[],
                kwargs={},
                schedule_id=f"{task.task_name}.periodic",
                interval=interval,
            )
            for task, interval in (
                (self.reset_usage, every_seconds),
                (self.expire_trials, every_seconds),
                (self.notify, every_seconds),
                (self.expire_holds, every_seconds),
                (self.expire_offers, every_seconds),
                (self.sync, max(every_seconds, 3600)),
            )
        ]


def _report(summary: JobSummary) -> dict[str, Any]:
    log.info(
        "billing.job.finished",
        job=summary.job,
        examined=summary.examined,
        changed=summary.changed,
    )
    return {
        "job": summary.job,
        "examined": summary.examined,
        "changed": summary.changed,
    }


def register_billing_tasks(
    broker: AsyncBroker, platform_provider: PlatformProvider
) -> BillingTasks:
    """Register the billing jobs under the names the workflow inventory gives them.

    Each is safe to run twice: a period already rolled or a notification
    already sent is not done again.
    """

    def job_task(name: str, task_name: str) -> _JobTask:
        async def run() -> dict[str, Any]:
            job = BILLING_JOBS.get(name) or REGISTRATION_JOBS[name]
            return _report(await job(platform_provider()))

        return broker.register_task(run, task_name=task_name)

    async def sync(subscription_id: str | None = None) -> dict[str, Any]:
        platform = platform_provider()
        if subscription_id is None:
            return _report(await platform.billing.reconcile())
        try:
            target = UUID(subscription_id)
        except ValueError:
            log.error("billing.sync.rejected", subscription_id=subscription_id)
            return {"job": "sync", "examined": 0, "changed": 0}
        changed = await platform.billing.sync_subscription(target)
        return {"job": "sync", "examined": 1, "changed": int(changed)}

    return BillingTasks(
        broker=broker,
        reset_usage=job_task("reset-usage", RESET_USAGE_TASK),
        expire_trials=job_task("expire-trials", EXPIRE_TRIALS_TASK),
        notify=job_task("notify", NOTIFY_TASK),
        expire_holds=job_task("expire-holds", EXPIRE_HOLDS_TASK),
        expire_offers=job_task("expire-offers", EXPIRE_OFFERS_TASK),
        sync=broker.register_task(sync, task_name=SYNC_TASK),
    )


async def run_billing_round(platform: Platform) -> list[JobSummary]:
    """Every billing job once, in order, as the in-process loop runs them."""
    summaries = []
    for job in [*BILLING_JOBS.values(), *REGISTRATION_JOBS.values()]:
        summary = await job(platform)
        if summary.changed:
            _report(summary)
        summaries.append(summary)
    return summaries
