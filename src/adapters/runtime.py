"""Starting and stopping what a serving or working process needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

from adapters.container import Container
from adapters.persistence import ensure_schema_current, ping
from adapters.worker import OutboxPoller, PeriodicJob, run_billing_round
from adapters.worker.broker import finish_in_process_tasks

log = structlog.get_logger(__name__)

Probe = Callable[[], Awaitable[None]]

STOP_WAIT_SECONDS = 10.0
"""How long stopping waits for tasks the in-memory broker is running.

A mail half delivered when the wait ends stays in the outbox and is sent
again once its lease ends; the wait only spares that delay and the noise of
cancelled tasks.
"""


class Runtime:
    """Checks the schema, starts the broker and, when embedded, the periodic loops."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._loops: list[PeriodicJob] = []

    async def start(
        self, *, serve_tasks_in_process: bool, tolerate_broker_outage: bool = False
    ) -> None:
        """Refuse an out-of-date schema; a server may start while the broker is down."""
        settings = self._container.settings()
        await ensure_schema_current(self._container.engine())
        self._container.tasks()
        self._container.billing_tasks()
        try:
            await self._container.broker().startup()
        except (OSError, RedisError) as error:
            if not tolerate_broker_outage:
                raise
            log.error("runtime.broker.unavailable", error=str(error))
        if settings.broker_url is None and serve_tasks_in_process:
            platform = self._container.platform()

            async def billing_round() -> None:
                await run_billing_round(platform)

            self._loops = [
                OutboxPoller(platform, interval=settings.outbox_poll_seconds),
                PeriodicJob(
                    "billing.jobs",
                    billing_round,
                    interval=settings.billing_jobs_seconds,
                ),
            ]
            for loop in self._loops:
                loop.start()
        log.info(
            "runtime.started",
            database=self._container.engine().url.get_backend_name(),
            broker="redis" if settings.broker_url else "in-memory",
            mail=settings.mail_backend.value,
        )

    async def stop(self) -> None:
        loops, self._loops = self._loops, []
        for loop in loops:
            await loop.stop()
        broker = self._container.broker()
        try:
            await asyncio.wait_for(finish_in_process_tasks(broker), STOP_WAIT_SECONDS)
        except TimeoutError:
            log.warning("runtime.tasks.unfinished", waited_seconds=STOP_WAIT_SECONDS)
        await broker.shutdown()
        await self._container.engine().dispose()
        log.info("runtime.stopped")

    def readiness_probes(self) -> dict[str, Probe]:
        settings = self._container.settings()
        engine = self._container.engine()

        async def database() -> None:
            await ping(engine)

        async def broker() -> None:
            if settings.broker_url is None:
                return
            client = redis.from_url(settings.broker_url, socket_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()

        return {"database": database, "broker": broker}
