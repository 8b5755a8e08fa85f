"""The periodic outbox drain, scheduled with taskiq's scheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from taskiq import ScheduledTask, ScheduleSource, TaskiqScheduler
from taskiq.api import run_scheduler_task

from adapters.worker.lifecycle import cancel_and_wait
from adapters.worker.tasks import OutboxTasks

log = structlog.get_logger(__name__)

DRAIN_SCHEDULE_ID = "outbox.drain.periodic"

# taskiq's scheduler loop sends each due task from a detached asyncio task
# named after this prefix and the schedule id.
_SEND_TASK_PREFIX = "schedule_"


class FixedScheduleSource(ScheduleSource):
    """Schedules declared in code when the scheduler is built."""

    def __init__(self, schedules: list[ScheduledTask]) -> None:
        self._schedules = list(schedules)

    async def get_schedules(self) -> list[ScheduledTask]:
        return list(self._schedules)


def build_scheduler(
    tasks: OutboxTasks,
    *,
    drain_every_seconds: int = 30,
    extra: Sequence[ScheduledTask] = (),
) -> TaskiqScheduler:
    """A scheduler that kicks `outbox.drain` every `drain_every_seconds`, and `extra`.

    Run one scheduler per deployment; a second one only drains more often.
    """
    drain = ScheduledTask(
        task_name=tasks.drain.task_name,
        labels={},
        args=[],
        kwargs={},
        schedule_id=DRAIN_SCHEDULE_ID,
        interval=drain_every_seconds,
    )
    return TaskiqScheduler(tasks.broker, [FixedScheduleSource([drain, *extra])])


async def run_scheduler(
    scheduler: TaskiqScheduler, *, stop_grace_seconds: float = 10.0
) -> None:
    """Send scheduled tasks until cancelled, then close the broker and sources."""
    loop = asyncio.create_task(
        run_scheduler_task(scheduler, run_startup=True), name="taskiq-scheduler"
    )
    log.info("scheduler.started")
    try:
        await asyncio.shield(loop)
    finally:
        await cancel_and_wait([loop], stop_grace_seconds)
        await _finish_sends(stop_grace_seconds)
        for source in scheduler.sources:
            await source.shutdown()
        await scheduler.shutdown()
        log.info("scheduler.stopped")


async def _finish_sends(grace_seconds: float) -> None:
    """Let kicks already under way complete, so none outlives the broker."""
    sending = [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith(_SEND_TASK_PREFIX) and not task.done()
    ]
    if sending:
        await asyncio.wait(sending, timeout=grace_seconds)
