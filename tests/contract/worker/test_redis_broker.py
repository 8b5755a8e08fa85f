"""Workers on a real Redis: tasks run, and a dead worker's message is taken over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

from adapters.worker import (
    build_broker,
    build_scheduler,
    register_tasks,
    run_scheduler,
    run_worker,
)

from .support import Wired, eventually, eventually_async, wire

pytestmark = pytest.mark.redis

IDLE_TIMEOUT = 0.5

BrokerFactory = Callable[[], RedisStreamBroker]


@pytest.fixture
def make_broker(redis_url: str, stream_names: tuple[str, str]) -> BrokerFactory:
    """Brokers of separate processes, sharing this test's stream and group."""
    stream, group = stream_names

    def make() -> RedisStreamBroker:
        broker = build_broker(
            redis_url,
            queue_name=stream,
            consumer_group=group,
            idle_timeout_seconds=IDLE_TIMEOUT,
            read_block_seconds=0.1,
        )
        assert isinstance(broker, RedisStreamBroker)
        return broker

    return make


@pytest.fixture
async def producer(make_broker: BrokerFactory) -> AsyncIterator[Wired]:
    """The serving process: a core whose dispatcher kicks tasks into Redis."""
    broker = make_broker()
    yield wire(broker)
    await broker.shutdown()


def worker_of(core: Wired, broker: RedisStreamBroker) -> RedisStreamBroker:
    """A worker process's broker, running tasks against the same store."""
    register_tasks(broker, lambda: core.platform)
    return broker


@contextlib.asynccontextmanager
async def running(job: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run a worker or scheduler in the background; cancel it on the way out."""
    task = asyncio.create_task(job)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        assert task.done(), "the background job did not stop within 5 s"


async def pending_count(redis_url: str, stream: str, group: str) -> int:
    client = Redis.from_url(redis_url)
    try:
        summary = await client.xpending(stream, group)
    finally:
        await client.aclose()
    return int(summary["pending"])


async def test_task_kicked_before_any_worker_started_runs_on_a_worker(
    producer: Wired, make_broker: BrokerFactory
) -> None:
    await producer.sign_up()

    async with running(run_worker(worker_of(producer, make_broker()))):
        await eventually(lambda: producer.delivered_to() == ["ada@example.org"])


async def test_worker_acknowledges_a_message_once_its_task_ran(
    producer: Wired,
    make_broker: BrokerFactory,
    redis_url: str,
    stream_names: tuple[str, str],
) -> None:
    async with running(run_worker(worker_of(producer, make_broker()))):
        await producer.sign_up()
        await eventually(lambda: producer.delivered_to() == ["ada@example.org"])
        await eventually_async(lambda: pending_count(redis_url, *stream_names), 0)


async def test_message_of_a_dead_worker_goes_to_another_after_the_idle_timeout(
    producer: Wired,
    make_broker: BrokerFactory,
    redis_url: str,
    stream_names: tuple[str, str],
) -> None:
    doomed = make_broker()
    await doomed.startup()
    await producer.sign_up("ada@example.org")
    listener = doomed.listen()
    taken = await asyncio.wait_for(anext(listener), 5)
    assert isinstance(taken, AckableMessage)
    await listener.aclose()
    await doomed.shutdown()
    assert await pending_count(redis_url, *stream_names) == 1

    async with running(run_worker(worker_of(producer, make_broker()))):
        await asyncio.sleep(IDLE_TIMEOUT + 0.1)
        # taskiq-redis looks for abandoned messages after reading a new one;
        # in production the scheduler's periodic drain provides that message.
        await producer.sign_up("grace@example.org")
        await eventually(
            lambda: (
                sorted(producer.delivered_to())
                == ["ada@example.org", "grace@example.org"]
            )
        )
        await eventually_async(lambda: pending_count(redis_url, *stream_names), 0)

    assert producer.delivered_to().count("ada@example.org") == 1


async def test_scheduler_and_worker_deliver_mail_that_was_never_dispatched(
    make_broker: BrokerFactory,
) -> None:
    core = wire(make_broker(), dispatch=False)
    await core.sign_up()
    scheduler = build_scheduler(
        register_tasks(make_broker(), lambda: core.platform), drain_every_seconds=1
    )

    async with (
        running(run_worker(worker_of(core, make_broker()))),
        running(run_scheduler(scheduler)),
    ):
        await eventually(lambda: core.delivered_to() == ["ada@example.org"])

    await core.tasks.broker.shutdown()
