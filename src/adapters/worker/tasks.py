"""The outbox tasks, registered on a broker that the caller built."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask

from platform_core.platform import Platform

log = structlog.get_logger(__name__)

DELIVER_TASK = "outbox.deliver"
DRAIN_TASK = "outbox.drain"

PlatformProvider = Callable[[], Platform]


@dataclass(frozen=True, slots=True)
class OutboxTasks:
    """The outbox tasks of one broker."""

    broker: AsyncBroker
    deliver: AsyncTaskiqDecoratedTask[[str], Coroutine[Any, Any, str]]
    drain: AsyncTaskiqDecoratedTask[[], Coroutine[Any, Any, None]]


def register_tasks(
    broker: AsyncBroker, platform_provider: PlatformProvider
) -> OutboxTasks:
    """Register `outbox.deliver` and `outbox.drain`; both are safe to run twice.

    The provider is called each time a task runs, so a worker can build its
    platform after the broker exists.
    """

    async def deliver(message_id: str) -> str:
        try:
            outbox_id = UUID(message_id)
        except ValueError:
            log.error("outbox.task.rejected", message_id=message_id)
            return "invalid_id"
        outcome = await platform_provider().outbox.deliver(outbox_id)
        return outcome.value

    async def drain() -> None:
        summary = await platform_provider().outbox.drain()
        if summary.sent or summary.failed:
            log.info(
                "outbox.drain.finished",
                sent=summary.sent,
                failed=summary.failed,
                skipped=summary.skipped,
            )

    return OutboxTasks(
        broker=broker,
        deliver=broker.register_task(deliver, task_name=DELIVER_TASK),
        drain=broker.register_task(drain, task_name=DRAIN_TASK),
    )


class TaskiqDispatcher:
    """Kicks `outbox.deliver` per committed message and never fails the caller.

    A message the broker did not take stays in the outbox, where the periodic
    drain finds it.
    """

    def __init__(self, tasks: OutboxTasks, *, timeout_seconds: float = 2.0) -> None:
        self._tasks = tasks
        self._timeout = timeout_seconds

    async def dispatch(self, message_ids: Sequence[UUID]) -> None:
        for position, message_id in enumerate(message_ids):
            try:
                async with asyncio.timeout(self._timeout):
                    await self._tasks.deliver.kiq(str(message_id))
            # Any failure to enqueue is survivable: the outbox row is the
            # durable record, so the caller's transaction must not fail here.
            except Exception as error:
                cause = error.__cause__ or error
                log.warning(
                    "outbox.dispatch.failed",
                    message_ids=[str(i) for i in message_ids[position:]],
                    error=f"{type(cause).__name__}: {cause}",
                )
                return
