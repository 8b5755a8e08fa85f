"""Login, mail-request and promo-code throttling over `limits`, in memory or Redis."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

NAMESPACE = "platform:throttles"


class SweepSafeMemoryStorage(MemoryStorage):
    """`limits`' memory storage whose `clear` cannot break its expiry sweep.

    The stock `clear` removes the key's entries while the background sweep may
    be about to read them, which kills the sweep with a KeyError (limits
    5.8). Emptying the entries under the key's lock instead leaves the
    removal to the sweep itself.
    """

    async def clear(self, key: str) -> None:
        async with self.locks[key]:
            self.storage.pop(key, None)
            self.expirations.pop(key, None)
            if key in self.events:
                self.events[key] = []


def throttle_storage(redis_url: str | None) -> Storage:
    """Redis when a URL is given, shared by every process; else local memory."""
    if redis_url is None:
        return SweepSafeMemoryStorage()
    uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    return RedisStorage(uri, implementation="redispy", key_prefix=NAMESPACE)


class LimitsLoginThrottle:
    """Allows so many password attempts per account and per address in a window."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_account: int,
        per_address: int,
        window_minutes: int,
        scope: str = "login",
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._account = RateLimitItemPerMinute(per_account, window_minutes)
        self._address = RateLimitItemPerMinute(per_address, window_minutes)
        self._scope = scope

    def _items(
        self, account: str, address: str | None
    ) -> list[tuple[RateLimitItem, str, str]]:
        items: list[tuple[RateLimitItem, str, str]] = [
            (self._account, f"{self._scope}-account", account)
        ]
        if address:
            items.append((self._address, f"{self._scope}-address", address))
        return items

    async def acquire(self, *, account: str, address: str | None) -> int | None:
        for item, scope, key in self._items(account, address):
            if not await self._limiter.hit(item, scope, key):
                stats = await self._limiter.get_window_stats(item, scope, key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

    async def clear(self, *, account: str) -> None:
        await self._limiter.clear(self._account, f"{self._scope}-account", account)


class LimitsMailThrottle:
    """Allows so many mail requests per recipient and per address in a window."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_recipient: int,
        per_address: int,
        window_minutes: int,
    ) -> None:
        self._counter = LimitsLoginThrottle(
            storage,
            per_account=per_recipient,
            per_address=per_address,
            window_minutes=window_minutes,
            scope="mail",
        )

    async def acquire(self, *, recipient: str, address: str | None) -> int | None:
        return await self._counter.acquire(account=recipient, address=address)


class LimitsGuessThrottle:
    """Allows so many unknown promo codes per client address in a window.

    Checking and counting are two steps, so a concurrent burst of misses from
    one address can pass the limit by the size of the burst, once.
    """

    def __init__(self, storage: Storage, *, per_address: int, window_minutes: int):
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerMinute(per_address, window_minutes)

    async def blocked(self, *, address: str) -> int | None:
        if await self._limiter.test(self._item, "promo-misses", address):
            return None
        stats = await self._limiter.get_window_stats(
            self._item, "promo-misses", address
        )
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def missed(self, *, address: str) -> None:
        await self._limiter.hit(self._item, "promo-misses", address)
