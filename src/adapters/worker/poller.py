"""A drain loop inside the serving process, for the in-memory broker."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from platform_core.platform import Platform

log = structlog.get_logger(__name__)


class OutboxPoller:
    """Drains the outbox every `interval` seconds, so failed mail is retried in-process.

    With the in-memory broker there is no scheduler process; the back-off
    between attempts is the core's, this loop only looks for due messages.
    """

    def __init__(
        self, platform: Platform, *, interval: float = 10.0, stop_grace: float = 10.0
    ) -> None:
        if interval <= 0:
            raise ValueError("the outbox poll interval must be positive")
        self._platform = platform
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
        self._task = asyncio.create_task(self._run(), name="outbox-poller")
        log.info("outbox.poller.started", interval_seconds=self._interval)

    async def stop(self) -> None:
        """Let a drain in progress finish within the grace period, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(task, self._stop_grace)
        except TimeoutError:
            # wait_for cancelled the drain; the core's lease on its message expires.
            log.warning("outbox.poller.stop_timed_out", grace_seconds=self._stop_grace)
        log.info("outbox.poller.stopped")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self._drain_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)

    async def _drain_once(self) -> None:
        try:
            summary = await self._platform.outbox.drain()
        # The loop must outlive a failing store or mailer; the next round
        # tries again.
        except Exception as error:
            log.warning(
                "outbox.poller.failed", error=f"{type(error).__name__}: {error}"
            )
            return
        if summary.sent or summary.failed:
            log.info(
                "outbox.poller.drained",
                sent=summary.sent,
                failed=summary.failed,
                skipped=summary.skipped,
            )
