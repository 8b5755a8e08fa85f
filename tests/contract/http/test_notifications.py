"""The caller's in-app notifications over HTTP, on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from platform_core.notifications.model import Notification
from tests.contract.http.conftest import Api, bearer

PROBLEM = "application/problem+json"
START = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


async def _user_id(api: Api, tokens: dict[str, str]) -> UUID:
    principal = await api.container.platform().identity.authenticate(tokens["access"])
    return principal.user_id


async def _notify(api: Api, tokens: dict[str, str], count: int) -> list[str]:
    """`count` notifications a minute apart, the newest last; their uuids."""
    user_id = await _user_id(api, tokens)
    made = [
        Notification(
            user_id=user_id,
            kind="billing.payment_failed",
            title=f"Notice {n}",
            body="We could not collect the payment.",
            created_at=START + timedelta(minutes=n),
            dedupe_key=f"test:{user_id}:{n}",
        )
        for n in range(count)
    ]
    async with api.container.platform().ports.uow_factory() as uow:
        for notification in made:
            await uow.notifications.add(notification)
        await uow.commit()
    return [str(n.id) for n in made]


async def _list(api: Api, tokens: dict[str, str], query: str = "") -> dict[str, Any]:
    response = await api.client.get(
        f"/api/v1/notifications/{query}", headers=bearer(tokens)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


class TestListing:
    async def test_my_notifications_newest_first_in_pages(self, api: Api) -> None:
        tokens = await api.verified_user()
        made = await _notify(api, tokens, 3)

        first = await _list(api, tokens, "?page_size=2")
        second = await _list(api, tokens, "?page_size=2&page=2")

        assert {k: v for k, v in first.items() if k != "results"} == {
            "count": 3,
            "page": 1,
            "page_size": 2,
            "unread_count": 3,
        }
        assert [n["uuid"] for n in first["results"]] == [made[2], made[1]]
        assert [n["uuid"] for n in second["results"]] == [made[0]]
        assert first["results"][0] == {
            "uuid": made[2],
            "kind": "billing.payment_failed",
            "title": "Notice 2",
            "body": "We could not collect the payment.",
            "created_at": "2030-03-01T12:02:00Z",
            "read_at": None,
        }

    async def test_the_unread_filter(self, api: Api) -> None:
        tokens = await api.verified_user()
        made = await _notify(api, tokens, 3)
        await api.client.post(
            f"/api/v1/notifications/{made[0]}/read/", headers=bearer(tokens)
        )

        unread = await _list(api, tokens, "?unread=true")
        read = await _list(api, tokens, "?unread=false")

        assert [n["uuid"] for n in unread["results"]] == [made[2], made[1]]
        assert (unread["count"], unread["unread_count"]) == (2, 2)
        assert [n["uuid"] for n in read["results"]] == [made[0]]
        assert (read["count"], read["unread_count"]) == (1, 2)

    async def test_someone_elses_are_not_listed(self, api: Api) -> None:
        ada = await api.verified_user()
        grace = await api.verified_user("grace@example.org")
        await _notify(api, grace, 2)

        mine = await _list(api, ada)

        assert (mine["count"], mine["unread_count"], mine["results"]) == (0, 0, [])

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("?page=0", "page"),
            ("?page_size=101", "page_size"),
            ("?unread=perhaps", "unread"),
            ("?page=x", "page"),
        ],
    )
    async def test_bad_queries_are_problems(
        self, api: Api, query: str, field: str
    ) -> None:
        tokens = await api.verified_user()

        response = await api.client.get(
            f"/api/v1/notifications/{query}", headers=bearer(tokens)
        )

        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert field in response.text

    async def test_needs_a_token(self, api: Api) -> None:
        for method, path in [
            ("GET", "/api/v1/notifications/"),
            ("POST", "/api/v1/notifications/read-all/"),
            ("POST", f"/api/v1/notifications/{UUID(int=1)}/read/"),
        ]:
            response = await api.client.request(method, path)

            assert response.status_code == 401, (path, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)


class TestMarkingRead:
    async def test_one_is_marked_read_and_stays_read_at_its_first_instant(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user()
        made = await _notify(api, tokens, 2)

        first = await api.client.post(
            f"/api/v1/notifications/{made[0]}/read/", headers=bearer(tokens)
        )
        again = await api.client.post(
            f"/api/v1/notifications/{made[0]}/read/", headers=bearer(tokens)
        )

        assert first.status_code == 200, first.text
        assert first.json()["uuid"] == made[0]
        assert first.json()["read_at"] is not None
        assert again.status_code == 200, again.text
        assert again.json()["read_at"] == first.json()["read_at"]
        assert (await _list(api, tokens))["unread_count"] == 1

    async def test_another_persons_notification_is_not_found(self, api: Api) -> None:
        ada = await api.verified_user()
        grace = await api.verified_user("grace@example.org")
        theirs = await _notify(api, grace, 1)

        for target in (theirs[0], str(UUID(int=7))):
            response = await api.client.post(
                f"/api/v1/notifications/{target}/read/", headers=bearer(ada)
            )

            assert response.status_code == 404, response.text
            assert response.headers["content-type"].startswith(PROBLEM)
        assert (await _list(api, grace))["unread_count"] == 1

    async def test_a_malformed_id_is_not_a_500(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.post(
            "/api/v1/notifications/not-a-uuid/read/", headers=bearer(tokens)
        )

        assert response.status_code in (400, 404), response.text
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_all_mine_are_marked_read(self, api: Api) -> None:
        ada = await api.verified_user()
        grace = await api.verified_user("grace@example.org")
        await _notify(api, ada, 3)
        await _notify(api, grace, 1)

        response = await api.client.post(
            "/api/v1/notifications/read-all/", headers=bearer(ada)
        )
        again = await api.client.post(
            "/api/v1/notifications/read-all/", headers=bearer(ada)
        )

        assert response.status_code == 200, response.text
        assert response.json() == {"marked": 3, "unread_count": 0}
        assert again.json() == {"marked": 0, "unread_count": 0}
        listed = await _list(api, ada)
        assert listed["unread_count"] == 0
        assert all(n["read_at"] is not None for n in listed["results"])
        assert (await _list(api, grace))["unread_count"] == 1


async def test_the_routes_are_described_in_the_openapi_document(api: Api) -> None:
    response = await api.client.get("/schema/openapi.json")

    paths = response.json()["paths"]
    operations = [
        paths["/api/v1/notifications/"]["get"],
        paths["/api/v1/notifications/read-all/"]["post"],
        paths["/api/v1/notifications/{uuid}/read/"]["post"],
    ]
    assert all(operation["summary"] for operation in operations)
