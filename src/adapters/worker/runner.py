"""Running a worker in-process, without taskiq's command line."""

from __future__ import annotations

from taskiq import AsyncBroker
from taskiq.acks import AcknowledgeType
from taskiq.api import run_receiver_task


async def run_worker(broker: AsyncBroker, *, max_async_tasks: int = 20) -> None:
    """Execute the broker's tasks until cancelled, then close the broker.

    A message is acknowledged only after its task ran, so a worker that dies
    mid-task leaves the message to another worker.
    """
    try:
        await run_receiver_task(
            broker,
            run_startup=True,
            max_async_tasks=max_async_tasks,
            ack_time=AcknowledgeType.WHEN_SAVED,
        )
    finally:
        await broker.shutdown()
