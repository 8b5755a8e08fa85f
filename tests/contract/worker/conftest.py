from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("PLATFORM_TEST_REDIS_URL")
    if not url:
        pytest.fail(
            "PLATFORM_TEST_REDIS_URL is not set: the worker contract needs a real "
            "Redis (run the tests through `make test`, or export "
            "PLATFORM_TEST_REDIS_URL=redis://127.0.0.1:6379/15)"
        )
    return url


@pytest.fixture
async def stream_names(redis_url: str) -> AsyncIterator[tuple[str, str]]:
    """A stream and consumer group used by this test alone, deleted afterwards."""
    suffix = uuid.uuid4().hex
    stream, group = f"test:tasks:{suffix}", f"test-workers-{suffix}"
    yield stream, group
    client = Redis.from_url(redis_url)
    try:
        await client.delete(stream, f"autoclaim:{group}:{stream}")
    finally:
        await client.aclose()
