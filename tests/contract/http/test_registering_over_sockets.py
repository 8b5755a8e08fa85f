"""The registration rush through real sockets: the app served by uvicorn on a
free local port, 200 clients connecting over TCP at once, on both engines."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.persistence import upgrade_database
from adapters.settings import load_settings
from platform_core.registrations.model import RegistrationStatus
from tests.contract.conftest import PostgresServer
from tests.contract.http.conftest import Api, settings_env
from tests.contract.http.test_registering_concurrency import (
    RUSH,
    SEATS,
    an_open_event,
    stored_registrations,
)

START_TIMEOUT_SECONDS = 20


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", backlog=512
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)


@pytest.fixture(params=["sqlite", "postgres"])
async def socket_api(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Api]:
    extra: dict[str, str] = {}
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        extra["PLATFORM_DATABASE_URL"] = await asyncio.to_thread(server.create_database)
    settings = load_settings(settings_env(tmp_path, **extra))
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    container = build_container(settings)
    limits = httpx.Limits(max_connections=RUSH, max_keepalive_connections=RUSH)
    with served(create_app(container)) as base_url:
        async with httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=120
        ) as client:
            yield Api(client, container, settings.resolved_mail_outbox)


async def test_200_clients_over_tcp_fill_50_seats_and_queue_the_rest(
    socket_api: Api,
) -> None:
    api = socket_api
    event = await an_open_event(api, capacity=SEATS, waitlist_enabled=True)

    async def register(n: int) -> httpx.Response:
        return await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/",
            json={
                "email": f"person{n}@example.org",
                "first_name": "Person",
                "last_name": str(n),
            },
        )

    started = time.monotonic()
    responses = await asyncio.gather(*(register(n) for n in range(RUSH)))
    elapsed = time.monotonic() - started

    assert [r.status_code for r in responses] == [201] * RUSH, [
        r.text for r in responses if r.status_code != 201
    ][:3]
    bodies = [r.json() for r in responses]
    statuses = [b["status"] for b in bodies]
    assert statuses.count("confirmed") == SEATS
    assert statuses.count("waitlisted") == RUSH - SEATS
    stored = await stored_registrations(api, event["uuid"])
    assert len(stored) == RUSH
    waiting = sorted(
        (r for r in stored if r.status is RegistrationStatus.WAITLISTED),
        key=lambda r: r.waitlist_seq or 0,
    )
    by_id = {b["uuid"]: b for b in bodies}
    assert [by_id[str(r.id)]["waitlist_position"] for r in waiting] == list(
        range(1, RUSH - SEATS + 1)
    )
    print(f"\n{RUSH} registrations over TCP for {SEATS} seats in {elapsed:.2f} s")
