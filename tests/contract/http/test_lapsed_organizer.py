"""What an account keeps of its events once its plan no longer makes it an organizer.

The account here downgrades after its only event ended, which the downgrade
allows; reviving that event would get round both the downgrade's guard and
the plan's quotas, so every write that changes what the event offers is
refused, while reading, removing and cancelling stay possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import organizer
from tests.images import image_bytes

PAST = {
    "starts_at": "2020-01-01T09:00:00+00:00",
    "ends_at": "2020-01-01T17:00:00+00:00",
}
FUTURE = {
    "starts_at": "2036-03-02T09:00:00+00:00",
    "ends_at": "2036-03-02T17:00:00+00:00",
}


@dataclass
class Lapsed:
    api: Api
    tokens: dict[str, str]
    event: str
    session: str
    field: str

    async def get(self, path: str) -> Any:
        response = await self.api.client.get(path, headers=bearer(self.tokens))
        assert response.status_code == 200, response.text
        return response.json()

    async def snapshot(self) -> tuple[Any, Any, Any, Any]:
        base = f"/api/v1/events/{self.event}"
        return (
            await self.get(f"{base}/"),
            await self.get(f"{base}/sessions/"),
            await self.get(f"{base}/custom-fields/"),
            await self.get(f"{base}/registrations/"),
        )


@pytest.fixture
async def lapsed(api: Api) -> Lapsed:
    """An ended draft with a session and a field; its owner is an attendee again."""
    tokens = await organizer(api)
    client, auth = api.client, bearer(tokens)
    created = await client.post(
        "/api/v1/events/",
        json={
            "title": "Cardiology update",
            "description": "Two talks.",
            "timezone": "Europe/Paris",
            **PAST,
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    event = created.json()["uuid"]
    session = await client.post(
        f"/api/v1/events/{event}/sessions/",
        json={"title": "Morning", **PAST},
        headers=auth,
    )
    field = await client.post(
        f"/api/v1/events/{event}/custom-fields/",
        json={"label": "Role", "field_type": "short_text"},
        headers=auth,
    )
    assert (session.status_code, field.status_code) == (201, 201), field.text
    downgraded = await client.post("/api/v1/users/me/downgrade/", headers=auth)
    assert downgraded.status_code == 200, downgraded.text
    me = await client.get("/api/v1/users/me/", headers=auth)
    assert me.json()["is_organizer"] is False
    return Lapsed(api, tokens, event, session.json()["uuid"], field.json()["uuid"])


WRITES = [
    ("PATCH", "/", {**FUTURE, "capacity": 5000}, "organizer"),
    ("POST", "/publish/", {"published": True}, "organizer"),
    ("POST", "/sessions/", {"title": "Afternoon", **PAST}, "organizer"),
    ("PATCH", "/sessions/{session}/", {"title": "Evening"}, "organizer"),
    (
        "POST",
        "/custom-fields/",
        {"label": "Licence", "field_type": "short_text"},
        "custom_fields",
    ),
    ("PATCH", "/custom-fields/{field}/", {"label": "Job"}, "custom_fields"),
    ("POST", "/custom-fields/reorder/", {"order": ["{field}"]}, "custom_fields"),
    (
        "POST",
        "/registrations/bulk/",
        {
            "registrations": [
                {"email": "kim@example.org", "first_name": "Kim", "last_name": "Lee"}
            ],
            "ignore_capacity": True,
        },
        "organizer",
    ),
]


def _filled(value: Any, lapsed: Lapsed) -> Any:
    if isinstance(value, str):
        return value.format(session=lapsed.session, field=lapsed.field)
    if isinstance(value, list):
        return [_filled(v, lapsed) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, lapsed) for k, v in value.items()}
    return value


class TestRefused:
    @pytest.mark.parametrize(("method", "path", "body", "capability"), WRITES)
    async def test_a_write_that_would_revive_the_event_is_refused(
        self,
        lapsed: Lapsed,
        method: str,
        path: str,
        body: dict[str, Any],
        capability: str,
    ) -> None:
        before = await lapsed.snapshot()

        response = await lapsed.api.client.request(
            method,
            f"/api/v1/events/{lapsed.event}{_filled(path, lapsed)}",
            json=_filled(body, lapsed),
            headers=bearer(lapsed.tokens),
        )

        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert (problem["code"], problem["capability"]) == (
            "capability_missing",
            capability,
        )
        assert await lapsed.snapshot() == before

    async def test_a_new_image_is_refused_and_none_is_stored(
        self, lapsed: Lapsed
    ) -> None:
        response = await lapsed.api.client.post(
            f"/api/v1/events/{lapsed.event}/upload-image/",
            files={"image": ("photo.png", image_bytes(), "image/png")},
            headers=bearer(lapsed.tokens),
        )

        assert response.status_code == 403, response.text
        assert response.json()["code"] == "capability_missing"
        event = await lapsed.get(f"/api/v1/events/{lapsed.event}/")
        assert event["featured_image"] is None

    async def test_another_account_still_gets_404_not_403(self, lapsed: Lapsed) -> None:
        stranger = await lapsed.api.verified_user("grace@example.org")

        response = await lapsed.api.client.post(
            f"/api/v1/events/{lapsed.event}/publish/",
            json={"published": True},
            headers=bearer(stranger),
        )

        assert response.status_code == 404, response.text


class TestKept:
    async def test_the_event_can_still_be_read_pruned_and_deleted(
        self, lapsed: Lapsed
    ) -> None:
        client, auth = lapsed.api.client, bearer(lapsed.tokens)
        base = f"/api/v1/events/{lapsed.event}"

        unpublish = await client.post(
            f"{base}/publish/", json={"published": False}, headers=auth
        )
        session = await client.delete(
            f"{base}/sessions/{lapsed.session}/", headers=auth
        )
        field = await client.delete(
            f"{base}/custom-fields/{lapsed.field}/", headers=auth
        )
        export = await client.get(f"{base}/registrations/export.csv", headers=auth)
        deleted = await client.delete(f"{base}/", headers=auth)

        assert unpublish.status_code == 200, unpublish.text
        assert unpublish.json()["status"] == "draft"
        assert (session.status_code, field.status_code) == (204, 204), field.text
        assert export.status_code == 200, export.text
        assert deleted.status_code == 204, deleted.text
        gone = await client.get(f"{base}/", headers=auth)
        assert gone.status_code == 404

    async def test_the_event_can_still_be_cancelled(self, lapsed: Lapsed) -> None:
        response = await lapsed.api.client.post(
            f"/api/v1/events/{lapsed.event}/cancel/", headers=bearer(lapsed.tokens)
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"

    async def test_subscribing_again_gives_the_writes_back(
        self, lapsed: Lapsed
    ) -> None:
        client, auth = lapsed.api.client, bearer(lapsed.tokens)
        again = await client.post(
            "/api/v1/subscription/",
            json={"plan": "organizer", "interval": "month"},
            headers=auth,
        )

        response = await client.patch(
            f"/api/v1/events/{lapsed.event}/",
            json={"title": "Cardiology update, again"},
            headers=auth,
        )

        assert again.status_code == 201, again.text
        assert response.status_code == 200, response.text
        assert response.json()["title"] == "Cardiology update, again"
