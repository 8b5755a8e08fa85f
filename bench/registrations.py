"""Throughput of registering through the real app on a fresh SQLite file.

Prints how long a rush of concurrent registrations for a limited number of
seats takes, and how long one bulk add of many rows takes, with the outcome
counts so a wrong result is seen next to its figure.
Run: `.venv/bin/python bench/registrations.py [rush] [seats] [bulk rows]`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
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
EVENT = {
    "description": "Talks.",
    "timezone": "Europe/London",
    "waitlist_enabled": True,
    "starts_at": "2031-03-27T09:00:00+00:00",
    "ends_at": "2031-03-27T17:00:00+00:00",
}


async def organizer(client: AsyncTestClient[Any], container: Any) -> dict[str, str]:
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
    await client.post(
        "/api/v1/subscription/",
        json={"plan": "organizer_pro", "interval": "month"},
        headers=headers,
    )
    return headers


async def event(
    client: AsyncTestClient[Any], headers: dict[str, str], title: str, capacity: int
) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/events/",
        json={**EVENT, "title": title, "capacity": capacity},
        headers=headers,
    )
    body: dict[str, Any] = created.json()
    await client.post(
        f"/api/v1/events/{body['uuid']}/publish/",
        json={"published": True},
        headers=headers,
    )
    return body


def person(n: int) -> dict[str, str]:
    return {"email": f"p{n}@example.org", "first_name": "P", "last_name": str(n)}


async def main(rush: int, seats: int, rows: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="platform-bench-"))
    settings = load_settings(
        {"PLATFORM_DATA_DIR": str(data_dir), "PLATFORM_LOG_LEVEL": "error"}
    )
    configure_logging(settings.log_level)
    upgrade_database(settings.resolved_database_url)
    container = build_container(settings)
    async with AsyncTestClient(create_app(container), timeout=600) as client:
        headers = await organizer(client, container)

        rushed = await event(client, headers, "Rush", seats)
        path = f"/api/v1/public/events/{rushed['uuid']}/register/"
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(client.post(path, json=person(n)) for n in range(rush))
        )
        elapsed = time.perf_counter() - started
        outcomes = Counter(
            r.json().get("status", r.status_code)
            if r.status_code == 201
            else r.status_code
            for r in answers
        )
        print(
            f"rush: {rush} concurrent registrations for {seats} seats in "
            f"{elapsed:.2f} s ({rush / elapsed:.0f}/s): {dict(outcomes)}"
        )

        bulk = await event(client, headers, "Bulk", rows)
        started = time.perf_counter()
        answer = await client.post(
            f"/api/v1/events/{bulk['uuid']}/registrations/bulk/",
            json={"registrations": [person(n) for n in range(rows)]},
            headers=headers,
        )
        elapsed = time.perf_counter() - started
        body = answer.json()
        print(
            f"bulk: {rows} rows in one request in {elapsed:.2f} s: "
            f"added={body.get('added')} skipped={body.get('skipped')} "
            f"refused={body.get('refused')}"
        )


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:4]]
    defaults = [200, 50, 1000]
    rush, seats, rows = numbers + defaults[len(numbers) :]
    asyncio.run(main(rush, seats, rows))
