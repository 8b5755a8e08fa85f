"""Running a worker in-process, without taskiq's command line."""

from __future__ import annotations

import asyncio

import structlog
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.acks import AcknowledgeType
from taskiq.api import run_receiver_task

from adapters.worker.lifecycle import cancel_and_wait

log = structlog.get_logger(__name__)

QUICK_STOP_SECONDS = 0.2


async def run_worker(
    broker: AsyncBroker, *, max_async_tasks: int = 20, stop_grace_seconds: float = 5.0
) -> None:
    """Execute the broker's tasks until cancelled, then close the broker.

    A message is acknowledged only after its task ran, so a worker that dies
    mid-task leaves the message to another worker.
    """
    if isinstance(broker, InMemoryBroker):
        raise ValueError(
            "the in-memory broker runs tasks inside the serving process; "
            "a separate worker needs a Redis broker"
        )
    receiver = asyncio.create_task(
        run_receiver_task(
            broker,
            run_startup=True,
            max_async_tasks=max_async_tasks,
            ack_time=AcknowledgeType.WHEN_SAVED,
        ),
        name="taskiq-receiver",
    )
    log.info("worker.started", max_async_tasks=max_async_tasks)
    try:
        await asyncio.shield(receiver)
    finally:
        receiver.cancel()
        await asyncio.wait({receiver}, timeout=QUICK_STOP_SECONDS)
        # A Redis read interrupted by cancellation sometimes keeps the receiver
        # waiting; closing the broker's connections ends that read. Tasks still
        # running reconnect to acknowledge their messages.
        await broker.shutdown()
        if not await cancel_and_wait([receiver], stop_grace_seconds):
            log.warning("worker.stop.abandoned", grace_seconds=stop_grace_seconds)
        log.info("worker.stopped")
