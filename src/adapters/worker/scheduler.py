"""The periodic outbox drain, scheduled with taskiq's scheduler."""

from __future__ import annotations

from taskiq import ScheduledTask, ScheduleSource, TaskiqScheduler
from taskiq.api import run_scheduler_task

from adapters.worker.tasks import OutboxTasks

DRAIN_SCHEDULE_ID = "outbox.drain.periodic"


class FixedScheduleSource(ScheduleSource):
    """Schedules declared in code when the scheduler is built."""

    def __init__(self, schedules: list[ScheduledTask]) -> None:
        self._schedules = list(schedules)

    async def get_schedules(self) -> list[ScheduledTask]:
        return list(self._schedules)


def build_scheduler(
    tasks: OutboxTasks, *, drain_every_seconds: int = 30
) -> TaskiqScheduler:
    """A scheduler that kicks `outbox.drain` every `drain_every_seconds`.

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
    return TaskiqScheduler(tasks.broker, [FixedScheduleSource([drain])])


async def run_scheduler(scheduler: TaskiqScheduler) -> None:
    """Send scheduled tasks until cancelled, then close the broker and sources."""
    try:
        await run_scheduler_task(scheduler, run_startup=True)
    finally:
        for source in scheduler.sources:
            await source.shutdown()
        await scheduler.shutdown()
