"""Login throttling over the `limits` library: in memory, or shared through Redis."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

NAMESPACE = "platform:login-failures"


def throttle_storage(redis_url: str | None) -> Storage:
    """Redis when a URL is given, shared by every process; else local memory."""
    if redis_url is None:
        return MemoryStorage()
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
    ) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._account = RateLimitItemPerMinute(per_account, window_minutes)
        self._address = RateLimitItemPerMinute(per_address, window_minutes)

    def _items(
        self, account: str, address: str | None
    ) -> list[tuple[RateLimitItem, str, str]]:
        items: list[tuple[RateLimitItem, str, str]] = [
            (self._account, "account", account)
        ]
        if address:
            items.append((self._address, "address", address))
        return items

    async def acquire(self, *, account: str, address: str | None) -> int | None:
        for item, scope, key in self._items(account, address):
            if not await self._limiter.hit(item, scope, key):
                stats = await self._limiter.get_window_stats(item, scope, key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

    async def clear(self, *, account: str) -> None:
        await self._limiter.clear(self._account, "account", account)
