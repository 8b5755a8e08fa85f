"""A memory-backed core wired to the outbox tasks of a given broker."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from taskiq import AsyncBroker

from adapters.memory import MemoryAdapters
from adapters.worker import OutboxTasks, TaskiqDispatcher, register_tasks
from platform_core import IdentityPolicy, Platform
from platform_core.outbox.model import OutboxMessage
from tests.support import CLIENT, PASSWORD

T = TypeVar("T")


@dataclasses.dataclass
class Wired:
    platform: Platform
    memory: MemoryAdapters
    tasks: OutboxTasks

    async def sign_up(self, email: str = "ada@example.org") -> None:
        await self.platform.identity.sign_up(
            email=email, password=PASSWORD, full_name="Ada", client=CLIENT
        )

    def outbox(self) -> list[OutboxMessage]:
        return list(self.memory.store.tables.outbox.values())

    def delivered_to(self) -> list[str]:
        return [sent.message.to for sent in self.memory.mailer.sent]


def wire(broker: AsyncBroker, *, dispatch: bool = True) -> Wired:
    """A core whose dispatcher kicks tasks on `broker` (or only records, if not)."""
    memory = MemoryAdapters()
    platform: Platform | None = None

    def provide() -> Platform:
        assert platform is not None
        return platform

    tasks = register_tasks(broker, provide)
    ports = memory.ports()
    if dispatch:
        ports = dataclasses.replace(ports, dispatcher=TaskiqDispatcher(tasks))
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    return Wired(platform, memory, tasks)


async def eventually(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait until `condition` holds, failing after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {within} s")
        await asyncio.sleep(0.02)


async def eventually_async(
    probe: Callable[[], Awaitable[T]], expected: T, *, within: float = 5.0
) -> None:
    """Wait until `probe` returns `expected`, failing after `within` seconds."""
    deadline = time.monotonic() + within
    while (found := await probe()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {expected!r}, still {found!r}")
        await asyncio.sleep(0.05)
