"""Twenty concurrent starts of a plan by one new account over TCP, on both engines."""

from __future__ import annotations

import asyncio

from tests.contract.http.conftest import Api, bearer

STARTS = 20
PROBLEM = "application/problem+json"


async def test_one_subscription_is_made_and_the_others_are_told_why(
    socket_api: Api,
) -> None:
    api = socket_api
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
