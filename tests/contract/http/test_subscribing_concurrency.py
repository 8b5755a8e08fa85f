"""Twenty concurrent starts of a plan by one new account over HTTP, on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.persistence import upgrade_database
from adapters.settings import load_settings
from tests.contract.conftest import PostgresServer
from tests.contract.http.conftest import Api, bearer, settings_env

STARTS = 20
PROBLEM = "application/problem+json"


@pytest.fixture
async def postgres_api(
    tmp_path: Path, postgres_server: PostgresServer
) -> AsyncIterator[Api]:
    """The real app on a fresh, migrated PostgreSQL database."""
    url = await asyncio.to_thread(postgres_server.create_database)
    await asyncio.to_thread(upgrade_database, url)
    settings = load_settings(settings_env(tmp_path, PLATFORM_DATABASE_URL=url))
    container = build_container(settings)
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client, container, settings.resolved_mail_outbox)


@pytest.fixture(params=["sqlite", "postgres"])
def engine_api(request: pytest.FixtureRequest) -> Api:
    api: Api = request.getfixturevalue(
        "api" if request.param == "sqlite" else "postgres_api"
    )
    return api


async def test_one_subscription_is_made_and_the_others_are_told_why(
    engine_api: Api,
) -> None:
    api = engine_api
    tokens = await api.verified_user()

    responses = await asyncio.gather(
        *(
            api.client.post(
                "/api/v1/subscription/",
                json={"plan": "organizer", "interval": "month"},
                headers=bearer(tokens),
            )
            for _ in range(STARTS)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (STARTS - 1), [r.text for r in responses]
    created = next(r.json() for r in responses if r.status_code == 201)
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert refused.json()["code"] == "already_subscribed"
        assert refused.json()["subscription"] == created["uuid"]
    shown = await api.client.get("/api/v1/subscription/", headers=bearer(tokens))
    assert (shown.json()["uuid"], shown.json()["plan"]) == (
        created["uuid"],
        "organizer",
    )
