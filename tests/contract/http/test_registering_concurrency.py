"""A rush of registrants over TCP: nobody overbooked or lost, on both engines."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

from adapters.persistence import create_engine, sql_uow_factory
from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationStatus,
)
from tests.contract.http.conftest import Api
from tests.contract.http.test_events import complete_body, create, organizer, publish

SEATS = 50
RUSH = 200


async def an_open_event(api: Api, **fields: Any) -> dict[str, Any]:
    tokens = await organizer(api)
    event = await create(api, tokens, **complete_body(**fields))
    await publish(api, tokens, event["uuid"])
    return event


async def stored_registrations(api: Api, event_uuid: str) -> list[Registration]:
    """Read on an engine of the test's own loop; the app's runs on another."""
    engine = create_engine(api.container.settings().resolved_database_url)
    try:
        async with sql_uow_factory(engine)() as uow:
            found, _ = await uow.registrations.list_for_event(
                UUID(event_uuid), RegistrationFilter(), offset=0, limit=RUSH * 2
            )
            return list(found)
    finally:
        await engine.dispose()


class TestRush:
    async def test_200_registrants_for_50_seats_fill_them_and_queue_the_rest(
        self, socket_api: Api
    ) -> None:
        api = socket_api
        event = await an_open_event(api, capacity=SEATS, waitlist_enabled=True)

        async def register(n: int) -> Any:
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

        assert sorted({r.status_code for r in responses}) == [201], [
            r.text for r in responses if r.status_code != 201
        ][:3]
        bodies = [r.json() for r in responses]
        statuses = [b["status"] for b in bodies]
        assert statuses.count("confirmed") == SEATS
        assert statuses.count("waitlisted") == RUSH - SEATS
        positions = sorted(
            b["waitlist_position"] for b in bodies if b["status"] == "waitlisted"
        )
        assert positions == list(range(1, RUSH - SEATS + 1))

        stored = await stored_registrations(api, event["uuid"])
        assert len(stored) == RUSH
        waiting = sorted(
            (r for r in stored if r.status is RegistrationStatus.WAITLISTED),
            key=lambda r: r.waitlist_seq,
        )
        by_id = {b["uuid"]: b for b in bodies}
        assert [by_id[str(r.id)]["waitlist_position"] for r in waiting] == list(
            range(1, RUSH - SEATS + 1)
        )
        confirmed = [r for r in stored if r.status is RegistrationStatus.CONFIRMED]
        assert len(confirmed) == SEATS
        print(f"\n{RUSH} registrations for {SEATS} seats in {elapsed:.2f} s")

    async def test_a_full_event_without_waitlist_refuses_as_event_full(
        self, socket_api: Api
    ) -> None:
        api = socket_api
        event = await an_open_event(api, capacity=5, waitlist_enabled=False)

        async def register(n: int) -> Any:
            return await api.client.post(
                f"/api/v1/public/events/{event['uuid']}/register/",
                json={
                    "email": f"p{n}@example.org",
                    "first_name": "P",
                    "last_name": str(n),
                },
            )

        responses = await asyncio.gather(*(register(n) for n in range(20)))

        codes = [r.status_code for r in responses]
        assert codes.count(201) == 5
        assert codes.count(409) == 15
        refused = [r.json() for r in responses if r.status_code == 409]
        assert {p["code"] for p in refused} == {"event_full"}
        assert len(await stored_registrations(api, event["uuid"])) == 5
