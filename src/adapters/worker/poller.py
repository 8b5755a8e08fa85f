"""Periodic loops inside the serving process, for the in-memory broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from platform_core.platform import Platform

log = structlog.get_logger(__name__)


class PeriodicJob:
    """Runs `job` every `interval` seconds until stopped; a failing round is logged.

    With the in-memory broker there is no scheduler process, so the serving
    process runs its periodic work itself.
    """

    def __init__(
        self,
        name: str,
        job: Callable[[], Awaitable[None]],
        *,
        interval: float,
        stop_grace: float = 10.0,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"the {name} interval must be positive")
        self._name = name
        self._job = job
        self._interval = interval
        self._stop_grace = stop_grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop on the running event loop; starting twice is harmless."""
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=self._name)
        log.info(f"{self._name}.started", interval_seconds=self._interval)

    async def stop(self) -> None:
        """Let a round in progress finish within the grace period, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(task, self._stop_grace)
        except TimeoutError:
            # wait_for cancelled the round; whatever it held (an outbox lease)
            # expires on its own.
            log.warning(f"{self._name}.stop_timed_out", grace_seconds=self._stop_grace)
        log.info(f"{self._name}.stopped")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self._once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def _once(self) -> None:
        try:
            await self._job()
        # The loop must outlive a failing store, mailer or provider; the next
        # round tries again.
        except Exception as error:
            log.warning(
                f"{self._name}.failed", error=f"{type(error).__name__}: {error}"
            )


class OutboxPoller(PeriodicJob):
    """Drains the outbox every `interval` seconds, so failed mail is retried in-process.

    The back-off between attempts is the core's; this loop only looks for due
    messages.
    """

    def __init__(
        self, platform: Platform, *, interval: float = 10.0, stop_grace: float = 10.0
    ) -> None:
        async def drain() -> None:
            summary = await platform.outbox.drain()
            if summary.sent or summary.failed:
                log.info(
                    "outbox.poller.drained",
                    sent=summary.sent,
                    failed=summary.failed,
                    skipped=summary.skipped,
                )

        super().__init__(
            "outbox.poller", drain, interval=interval, stop_grace=stop_grace
        )
