from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from limits.aio.storage import Storage

from adapters.memory import ManualClock, MemoryLoginThrottle
from adapters.security import (
    LimitsGuessThrottle,
    LimitsLoginThrottle,
    LimitsMailThrottle,
)
from adapters.security.throttle import throttle_storage
from platform_core.identity.ports import LoginThrottle


def redis_url() -> str:
    url = os.environ.get("PLATFORM_TEST_REDIS_URL")
    if not url:
        pytest.fail("set PLATFORM_TEST_REDIS_URL (the Makefile sets it) to run this")
    return url


ThrottleFactory = Callable[[], LoginThrottle]


@pytest.fixture(params=["memory", "limits-memory", "limits-redis"])
async def make_throttle(
    request: pytest.FixtureRequest,
) -> AsyncIterator[ThrottleFactory]:
    """A factory of throttles that share one store, like processes of one site."""
    if request.param == "memory":
        clock = ManualClock()
        shared = MemoryLoginThrottle(clock, per_account=3, per_address=5)
        yield lambda: shared
        return
    url = redis_url() if request.param == "limits-redis" else None
    local = throttle_storage(None)
    stores = []

    def build() -> LoginThrottle:
        storage = throttle_storage(url) if url else local
        stores.append(storage)
        return LimitsLoginThrottle(
            storage, per_account=3, per_address=5, window_minutes=15
        )

    yield build
    for storage in stores:
        await storage.reset()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


class TestLoginThrottleContract:
    async def test_account_is_held_back_after_its_limit(
        self, make_throttle: ThrottleFactory
    ) -> None:
        throttle = make_throttle()
        account = unique("account")
        for _ in range(3):
            assert await throttle.acquire(account=account, address=None) is None

        wait = await throttle.acquire(account=account, address=None)
        assert wait is not None
        assert 0 < wait <= 15 * 60

    async def test_address_is_held_back_across_accounts(
        self, make_throttle: ThrottleFactory
    ) -> None:
        throttle = make_throttle()
        address = unique("address")
        for _ in range(5):
            assert await throttle.acquire(account=unique("a"), address=address) is None

        assert await throttle.acquire(account=unique("fresh"), address=address)
        assert await throttle.acquire(account=unique("fresh"), address=None) is None

    async def test_clearing_an_account_lets_it_try_again(
        self, make_throttle: ThrottleFactory
    ) -> None:
        throttle = make_throttle()
        account = unique("account")
        for _ in range(3):
            await throttle.acquire(account=account, address=None)

        await throttle.clear(account=account)

        assert await throttle.acquire(account=account, address=None) is None

    async def test_attempts_counted_by_one_instance_hold_for_another(
        self, make_throttle: ThrottleFactory
    ) -> None:
        first, second = make_throttle(), make_throttle()
        account = unique("account")
        for throttle in (first, second, first):
            assert await throttle.acquire(account=account, address=None) is None

        assert await second.acquire(account=account, address=None)

    async def test_a_concurrent_burst_gets_no_more_than_the_limit(
        self, make_throttle: ThrottleFactory
    ) -> None:
        throttles = [make_throttle() for _ in range(5)]
        account = unique("account")

        results = await asyncio.gather(
            *(
                throttles[n % len(throttles)].acquire(account=account, address=None)
                for n in range(40)
            )
        )

        assert sum(1 for wait in results if wait is None) == 3


@pytest.fixture(params=["limits-memory", "limits-redis"])
async def shared_storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    url = redis_url() if request.param == "limits-redis" else None
    storage = throttle_storage(url)
    yield storage
    await storage.reset()


class TestMailThrottle:
    async def test_a_recipient_is_held_back_across_instances(
        self, shared_storage: Storage
    ) -> None:
        first, second = (
            LimitsMailThrottle(
                shared_storage, per_recipient=2, per_address=10, window_minutes=60
            )
            for _ in range(2)
        )
        recipient = unique("recipient")

        assert await first.acquire(recipient=recipient, address=None) is None
        assert await second.acquire(recipient=recipient, address=None) is None
        wait = await first.acquire(recipient=recipient, address=None)

        assert wait is not None
        assert 0 < wait <= 60 * 60

    async def test_mail_requests_and_login_attempts_count_apart(
        self, shared_storage: Storage
    ) -> None:
        mail = LimitsMailThrottle(
            shared_storage, per_recipient=1, per_address=1, window_minutes=60
        )
        login = LimitsLoginThrottle(
            shared_storage, per_account=1, per_address=1, window_minutes=60
        )
        who, where = unique("someone"), unique("address")

        assert await login.acquire(account=who, address=where) is None
        assert await mail.acquire(recipient=who, address=where) is None
        assert await login.acquire(account=who, address=where)
        assert await mail.acquire(recipient=who, address=where)


class TestGuessThrottle:
    async def test_only_misses_count_and_they_hold_for_every_instance(
        self, shared_storage: Storage
    ) -> None:
        first, second = (
            LimitsGuessThrottle(shared_storage, per_address=2, window_minutes=15)
            for _ in range(2)
        )
        address = unique("address")
        for _ in range(5):
            assert await first.blocked(address=address) is None

        await first.missed(address=address)
        assert await second.blocked(address=address) is None
        await second.missed(address=address)

        wait = await first.blocked(address=address)
        assert wait is not None
        assert 0 < wait <= 15 * 60
        assert await second.blocked(address=unique("elsewhere")) is None


async def test_clearing_during_the_memory_sweep_leaves_the_sweep_alive() -> None:
    storage = throttle_storage(None)
    throttle = LimitsLoginThrottle(
        storage, per_account=5, per_address=50, window_minutes=15
    )
    accounts = [unique("account") for _ in range(50)]
    for account in accounts:
        await throttle.acquire(account=account, address=None)
    await asyncio.sleep(0)
    sweep = getattr(storage, "timer", None)
    assert isinstance(sweep, asyncio.Task)

    for account in accounts:
        await throttle.clear(account=account)
    await asyncio.wait_for(sweep, timeout=5)

    assert sweep.exception() is None
    for account in accounts[:3]:
        assert await throttle.acquire(account=account, address=None) is None
