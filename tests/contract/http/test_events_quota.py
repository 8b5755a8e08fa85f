"""The events_per_period limit holds under concurrent creations."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Limit
from platform_core.events.model import EventFilter
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
from platform_core.shared.errors import QuotaExceeded
from platform_core.shared.pagination import PageRequest
from platform_core.uow import UnitOfWorkFactory
from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import event_body, organizer
from tests.contract.persistence.test_entitlements import QUOTA, TEN_EVENTS
from tests.support import PASSWORD

HTTP_CREATIONS = 20
CORE_CREATIONS = 50


async def test_concurrent_creations_through_http_stop_exactly_at_the_limit(
    api: Api,
) -> None:
    tokens = await organizer(api)
    plans = (await api.client.get("/api/v1/plans/")).json()
    limit = next(p for p in plans if p["code"] == "organizer")["limits"][
        "events_per_period"
    ]
    assert 0 < limit < HTTP_CREATIONS

    responses = await asyncio.gather(
        *(
            api.client.post(
                "/api/v1/events/",
                json=event_body(title=f"Talk {n}"),
                headers=bearer(tokens),
            )
            for n in range(HTTP_CREATIONS)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * limit + [403] * (HTTP_CREATIONS - limit)
    refused = {r.json()["code"] for r in responses if r.status_code == 403}
    assert refused == {"quota_exceeded"}
    listed = await api.client.get("/api/v1/events/", headers=bearer(tokens))
    assert listed.json()["count"] == limit
    usage = (
        await api.client.get("/api/v1/subscription/", headers=bearer(tokens))
    ).json()
    assert usage["usage"]["events_per_period"]["used"] == limit


async def test_concurrent_create_event_never_goes_past_the_quota(
    uow_factory: UnitOfWorkFactory,
) -> None:
    memory = MemoryAdapters()
    ports = dataclasses.replace(memory.ports(), uow_factory=uow_factory)
    platform = Platform(ports, IdentityPolicy(frontend_url="https://app.test"))
    await platform.billing.upsert_plan(None, TEN_EVENTS)
    user, _ = await platform.identity.create_admin(
        email="ada@example.org", password=PASSWORD, first_name="Ada", last_name=""
    )
    actor = Principal(user_id=user.id, session_id=uuid.uuid4())
    await platform.billing.subscribe(actor, plan_code="ten", interval="month")
    starts_at = datetime.now(UTC) + timedelta(days=30)

    async def one(n: int) -> bool:
        draft = EventInput(
            title="Same title",
            timezone="Europe/Paris",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=n % 3 + 1),
        )
        try:
            await platform.events.create_event(actor, draft)
        except QuotaExceeded:
            return False
        return True

    outcomes = await asyncio.gather(*(one(n) for n in range(CORE_CREATIONS)))

    assert sum(outcomes) == QUOTA
    created = await platform.events.list_events(
        actor, EventFilter(), PageRequest(page_size=50)
    )
    assert created.total == QUOTA
    assert len({e.slug for e in created.items}) == QUOTA
    view = await platform.billing.subscription(actor)
    assert view.usage[Limit.EVENTS_PER_PERIOD.value].used == QUOTA
