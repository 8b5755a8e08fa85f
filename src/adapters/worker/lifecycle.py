"""Stopping background jobs within a bounded time."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

import structlog

log = structlog.get_logger(__name__)


async def cancel_and_wait(
    tasks: Collection[asyncio.Task[Any]], grace_seconds: float
) -> bool:
    """Cancel the tasks, wait up to `grace_seconds`; true if all of them ended."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=grace_seconds)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning(
                "worker.job.failed",
                job=task.get_name(),
                error=repr(task.exception()),
            )
    return all(task.done() for task in tasks)
