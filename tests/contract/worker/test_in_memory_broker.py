"""Tasks inside the serving process: the in-memory broker, scheduler and poller."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest
from structlog.testing import capture_logs
from taskiq import InMemoryBroker

from adapters.memory import MemoryAdapters, MemoryUnitOfWork
from adapters.worker import (
    DELIVER_TASK,
    DRAIN_TASK,
    OutboxPoller,
    build_broker,
    build_scheduler,
    run_scheduler,
    run_worker,
)
from platform_core import IdentityPolicy, Platform
from platform_core.outbox.model import FIRST_RETRY_DELAY
from platform_core.uow import UnitOfWork
from tests.contract.mail.support import free_port
from tests.support import CLIENT, PASSWORD

from .support import eventually, wire


def in_memory_broker() -> InMemoryBroker:
    broker = build_broker(None)
    assert isinstance(broker, InMemoryBroker)
    return broker


class TestBuildBroker:
    def test_no_url_means_the_in_memory_broker(self) -> None:
        assert isinstance(build_broker(None), InMemoryBroker)

    @pytest.mark.parametrize("url", ["amqp://guest@localhost//", "kafka://x:9092"])
    def test_unknown_scheme_is_refused_by_name(self, url: str) -> None:
        scheme = url.partition(":")[0]

        with pytest.raises(ValueError, match=f"'{scheme}'"):
            build_broker(url)

    def test_error_for_a_bad_url_does_not_repeat_its_password(self) -> None:
        with pytest.raises(ValueError, match="amqp") as raised:
            build_broker("amqp://user:hunter22@mq.internal//")

        assert "hunter22" not in str(raised.value)


class TestOutboxTasks:
    def test_tasks_are_registered_under_their_names(self) -> None:
        broker = in_memory_broker()

        tasks = wire(broker).tasks

        assert broker.find_task(DELIVER_TASK) is tasks.deliver
        assert broker.find_task(DRAIN_TASK) is tasks.drain

    async def test_dispatched_message_is_delivered_by_the_task(self) -> None:
        broker = in_memory_broker()
        core = wire(broker)

        await core.sign_up()
        await asyncio.wait_for(broker.wait_all(), 5)

        assert core.delivered_to() == ["ada@example.org"]
        [message] = core.outbox()
        assert message.sent_at is not None

    async def test_running_the_delivery_twice_sends_once(self) -> None:
        broker = in_memory_broker()
        core = wire(broker)
        await core.sign_up()
        await asyncio.wait_for(broker.wait_all(), 5)
        [message] = core.outbox()

        await core.tasks.deliver.kiq(str(message.id))
        await asyncio.wait_for(broker.wait_all(), 5)

        assert core.delivered_to() == ["ada@example.org"]

    async def test_failed_delivery_is_left_to_the_drain_task(self) -> None:
        broker = in_memory_broker()
        core = wire(broker)
        core.memory.mailer.failing = True
        await core.sign_up()
        await asyncio.wait_for(broker.wait_all(), 5)
        [message] = core.outbox()
        assert message.attempts == 1

        core.memory.mailer.failing = False
        core.memory.clock.advance(FIRST_RETRY_DELAY)
        await core.tasks.drain.kiq()
        await asyncio.wait_for(broker.wait_all(), 5)

        assert core.delivered_to() == ["ada@example.org"]

    async def test_malformed_message_id_is_rejected_without_delivering(self) -> None:
        broker = in_memory_broker()
        core = wire(broker, dispatch=False)
        await core.sign_up()

        with capture_logs() as logs:
            await core.tasks.deliver.kiq("not-a-uuid")
            await asyncio.wait_for(broker.wait_all(), 5)

        assert [e["event"] for e in logs] == ["outbox.task.rejected"]
        assert core.delivered_to() == []


class TestDispatcher:
    async def test_unreachable_broker_neither_fails_the_signup_nor_loses_mail(
        self,
    ) -> None:
        core = wire(build_broker(f"redis://127.0.0.1:{free_port()}/0"))

        with capture_logs() as logs:
            await core.sign_up()

        [failure] = [e for e in logs if e["event"] == "outbox.dispatch.failed"]
        [message] = core.outbox()
        assert failure["message_ids"] == [str(message.id)]
        assert "ConnectionError" in failure["error"]
        assert (message.sent_at, message.attempts) == (None, 0)

        summary = await core.platform.outbox.drain()

        assert summary.sent == 1
        assert core.delivered_to() == ["ada@example.org"]


class TestScheduler:
    async def test_scheduler_kicks_the_drain_that_sends_undispatched_mail(
        self,
    ) -> None:
        broker = in_memory_broker()
        core = wire(broker, dispatch=False)
        await core.sign_up()
        scheduler = build_scheduler(core.tasks, drain_every_seconds=1)

        running = asyncio.create_task(run_scheduler(scheduler))
        try:
            await eventually(lambda: core.delivered_to() == ["ada@example.org"])
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(running, 5)

    async def test_a_separate_worker_needs_a_real_broker(self) -> None:
        with pytest.raises(ValueError, match="Redis"):
            await run_worker(in_memory_broker())

    def test_drain_interval_must_be_whole_seconds(self) -> None:
        core = wire(in_memory_broker())

        with pytest.raises(ValueError, match="1 second"):
            build_scheduler(core.tasks, drain_every_seconds=0)


class TestOutboxPoller:
    async def test_poller_retries_failed_mail_after_the_back_off(self) -> None:
        core = wire(in_memory_broker(), dispatch=False)
        core.memory.mailer.failing = True
        await core.sign_up()
        poller = OutboxPoller(core.platform, interval=0.02)

        poller.start()
        try:
            await eventually(lambda: core.outbox()[0].attempts == 1)
            core.memory.mailer.failing = False
            await asyncio.sleep(0.1)
            assert core.delivered_to() == []

            core.memory.clock.advance(FIRST_RETRY_DELAY)
            await eventually(lambda: core.delivered_to() == ["ada@example.org"])
        finally:
            await poller.stop()

        assert core.outbox()[0].attempts == 1
        assert not poller.running

    async def test_poller_outlives_a_failing_drain(self) -> None:
        memory = MemoryAdapters()
        database_down = True

        def unit_of_work() -> UnitOfWork:
            if database_down:
                raise ConnectionError("database unavailable")
            return MemoryUnitOfWork(memory.store)

        ports = dataclasses.replace(memory.ports(), uow_factory=unit_of_work)
        platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
        poller = OutboxPoller(platform, interval=0.02)

        with capture_logs() as logs:
            poller.start()
            try:
                await eventually(
                    lambda: any(e["event"] == "outbox.poller.failed" for e in logs)
                )
                database_down = False
                await platform.identity.sign_up(
                    email="ada@example.org",
                    password=PASSWORD,
                    full_name="Ada",
                    client=CLIENT,
                )
                await eventually(lambda: len(memory.mailer.sent) == 1)
            finally:
                await poller.stop()

    async def test_stop_is_prompt_between_rounds(self) -> None:
        core = wire(in_memory_broker(), dispatch=False)
        poller = OutboxPoller(core.platform, interval=60)
        poller.start()
        poller.start()
        await asyncio.sleep(0.05)

        await asyncio.wait_for(poller.stop(), 1)

        assert not poller.running

    def test_interval_must_be_positive(self) -> None:
        core = wire(in_memory_broker(), dispatch=False)

        with pytest.raises(ValueError, match="positive"):
            OutboxPoller(core.platform, interval=0)
