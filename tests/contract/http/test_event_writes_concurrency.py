"""Concurrent writes of one event over HTTP: none undoes another, on both engines.

The async test client hands each request to the app's loop and waits for the
answer, so requests gathered on it reach the app one after another. These
tests send theirs from threads, through the same app, so they overlap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar.testing import transport

from adapters.persistence import create_engine, sql_uow_factory
from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import complete_body, create, organizer, publish

ROUNDS = 3


class AppTransport(httpx.BaseTransport):
    """Hands a request to the test client's app on its loop, from any thread."""

    def __init__(self, api: Api) -> None:
        self._app = transport.TestClientTransport(client=api.client)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._app.handle_request(request)


@pytest.fixture
def side_by_side(engine_api: Api) -> Iterator[httpx.Client]:
    """A client of the same app whose requests, sent from threads, overlap."""
    with httpx.Client(
        base_url=str(engine_api.client.base_url), transport=AppTransport(engine_api)
    ) as client:
        yield client


async def at_once(*requests: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Send every request from its own thread and wait for all the answers."""
    return list(await asyncio.gather(*(asyncio.to_thread(r) for r in requests)))


async def published_events(
    api: Api, count: int, **fields: Any
) -> tuple[dict[str, str], list[str]]:
    tokens = await organizer(api)
    uuids = []
    for _ in range(count):
        event = await create(api, tokens, **complete_body(**fields))
        await publish(api, tokens, event["uuid"])
        uuids.append(event["uuid"])
    return tokens, uuids


def patch(
    client: httpx.Client, tokens: dict[str, str], uuid: str, **fields: Any
) -> Callable[[], httpx.Response]:
    return partial(
        client.patch, f"/api/v1/events/{uuid}/", json=fields, headers=bearer(tokens)
    )


def cancel(
    client: httpx.Client, tokens: dict[str, str], uuid: str
) -> Callable[[], httpx.Response]:
    path = f"/api/v1/events/{uuid}/cancel/"
    return partial(client.post, path, headers=bearer(tokens))


def register(client: httpx.Client, uuid: str, n: int) -> Callable[[], httpx.Response]:
    return partial(
        client.post,
        f"/api/v1/public/events/{uuid}/register/",
        json={"email": f"p{n}@example.org", "first_name": "P", "last_name": "Q"},
    )


async def shown(api: Api, tokens: dict[str, str], uuid: str) -> dict[str, Any]:
    response = await api.client.get(f"/api/v1/events/{uuid}/", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def seats_held(api: Api, uuid: str) -> int:
    """Read on an engine of the test's own loop; the app's runs on another."""
    engine = create_engine(api.container.settings().resolved_database_url)
    try:
        async with sql_uow_factory(engine)() as uow:
            return await uow.registrations.count_holding_seats(UUID(uuid))
    finally:
        await engine.dispose()


CHANGES: list[dict[str, Any]] = [
    {"title": "Renamed"},
    {"venue": "Hall B"},
    {"address": "2 Side Street"},
    {"description": "Three talks."},
    {"cpd_credits": "1.50"},
    {"min_attendance_percent": 80},
    {"certificate_enabled": True},
    {"waitlist_enabled": True},
]
"""Edits of different fields, each sent on its own."""


async def test_concurrent_patches_of_different_fields_keep_them_all(
    engine_api: Api, side_by_side: httpx.Client
) -> None:
    api = engine_api
    tokens, uuids = await published_events(api, ROUNDS)

    for uuid in uuids:
        responses = await at_once(
            *(patch(side_by_side, tokens, uuid, **change) for change in CHANGES)
        )

        assert [r.status_code for r in responses] == [200] * len(CHANGES)
        body = await shown(api, tokens, uuid)
        for change in CHANGES:
            assert {name: body[name] for name in change} == change


async def test_a_cancel_among_patches_leaves_the_event_cancelled(
    engine_api: Api, side_by_side: httpx.Client
) -> None:
    api = engine_api
    tokens, uuids = await published_events(api, ROUNDS)
    half = len(CHANGES) // 2

    for uuid in uuids:
        responses = await at_once(
            *(patch(side_by_side, tokens, uuid, **c) for c in CHANGES[:half]),
            cancel(side_by_side, tokens, uuid),
            *(patch(side_by_side, tokens, uuid, **c) for c in CHANGES[half:]),
        )
        cancelled = responses.pop(half)

        assert cancelled.status_code == 200, cancelled.text
        body = await shown(api, tokens, uuid)
        assert body["status"] == "cancelled"
        for change, edit in zip(CHANGES, responses, strict=True):
            assert edit.status_code in (200, 409), edit.text
            if edit.status_code == 409:
                assert edit.json()["code"] == "event_cancelled"
            kept = {name: body[name] for name in change} == change
            assert kept is (edit.status_code == 200)


async def test_lowering_the_capacity_during_registrations_never_overbooks(
    engine_api: Api, side_by_side: httpx.Client
) -> None:
    api = engine_api
    tokens, uuids = await published_events(api, ROUNDS, capacity=10)

    for uuid in uuids:
        for n in range(5):
            assert (await asyncio.to_thread(register(side_by_side, uuid, n))).is_success

        lowered, *registered = await at_once(
            patch(side_by_side, tokens, uuid, capacity=5),
            *(register(side_by_side, uuid, n) for n in range(5, 10)),
        )

        capacity = (await shown(api, tokens, uuid))["capacity"]
        held = await seats_held(api, uuid)
        assert held <= capacity
        if lowered.status_code == 200:
            assert (capacity, held) == (5, 5)
            assert {r.status_code for r in registered} == {409}
        else:
            assert lowered.status_code == 400, lowered.text
            [error] = lowered.json()["errors"]
            assert (error["field"], error["code"]) == (
                "capacity",
                "below_registrations",
            )
            assert capacity == 10
            assert held == 5 + sum(r.status_code == 201 for r in registered)
