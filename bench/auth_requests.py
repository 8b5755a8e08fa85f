"""Latency of the identity endpoints through the real app on a fresh SQLite file.

Prints, for each endpoint, the number of requests and their median and 95th
percentile latency in milliseconds. Run: `.venv/bin/python bench/auth_requests.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.logging import configure_logging
from adapters.persistence import upgrade_database
from adapters.persistence.tables import users
from adapters.settings import load_settings

PASSWORD = "plum orchard lantern 42"


async def measure(name: str, count: int, call: Callable[[], Awaitable[Any]]) -> None:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(
        f"{name:<28} n={count:<5} median={statistics.median(timings):7.2f} ms "
        f"p95={p95:7.2f} ms"
    )


async def main(count: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="platform-bench-"))
    settings = load_settings(
        {"PLATFORM_DATA_DIR": str(data_dir), "PLATFORM_LOG_LEVEL": "error"}
    )
    configure_logging(settings.log_level)
    upgrade_database(settings.resolved_database_url)
    container = build_container(settings)
    async with AsyncTestClient(create_app(container)) as client:
        await client.post(
            "/api/v1/auth/signup/",
            json={"email": "bench@example.org", "password": PASSWORD, "full_name": "B"},
        )
        await container.platform().outbox.drain()
        async with container.engine().begin() as connection:
            await connection.execute(users.update().values(is_verified=True))
        login = {"email": "bench@example.org", "password": PASSWORD}
        tokens = (await client.post("/api/v1/auth/token/", json=login)).json()
        headers = {"Authorization": f"Bearer {tokens['access']}"}

        await measure("GET /health", count, lambda: client.get("/health"))
        await measure(
            "GET /api/v1/users/me/",
            count,
            lambda: client.get("/api/v1/users/me/", headers=headers),
        )
        await measure(
            "POST /api/v1/auth/token/",
            max(count // 10, 20),
            lambda: client.post("/api/v1/auth/token/", json=login),
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
