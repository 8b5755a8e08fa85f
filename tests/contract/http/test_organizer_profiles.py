"""Organizer profiles over HTTP: my profile, my logo, and the public page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.http.conftest import Api, bearer
from tests.images import SECRET, image_bytes, jpeg_with_gps, mpo_with_gps, opened

PROBLEM = "application/problem+json"
PROFILE = "/api/v1/users/me/organizer-profile/"
LOGO = "/api/v1/users/me/organizer-profile/logo/"
START = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)


async def organizer(api: Api, email: str = "ada@example.org") -> dict[str, str]:
    tokens = await api.verified_user(email)
    response = await api.client.post(
        "/api/v1/subscription/",
        json={"plan": "organizer", "interval": "month"},
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    return tokens


async def my_profile(api: Api, tokens: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get(PROFILE, headers=bearer(tokens))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def change(api: Api, tokens: dict[str, str], **fields: Any) -> Any:
    return await api.client.patch(PROFILE, json=fields, headers=bearer(tokens))


async def published_event(
    api: Api, tokens: dict[str, str], title: str, **fields: Any
) -> str:
    body = {
        "title": title,
        "description": "Talks.",
        "timezone": "Europe/Paris",
        "starts_at": START.isoformat(),
        "ends_at": (START + timedelta(hours=2)).isoformat(),
        **fields,
    }
    created = await api.client.post(
        "/api/v1/events/", json=body, headers=bearer(tokens)
    )
    assert created.status_code == 201, created.text
    uuid: str = created.json()["uuid"]
    published = await api.client.post(
        f"/api/v1/events/{uuid}/publish/",
        json={"published": True},
        headers=bearer(tokens),
    )
    assert published.status_code == 200, published.text
    return uuid


def field_errors(response: Any) -> dict[str, str]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return {e["field"]: e["code"] for e in response.json()["errors"]}


@pytest.fixture
async def ada(api: Api) -> dict[str, str]:
    return await organizer(api)


class TestMyProfile:
    async def test_the_first_read_creates_it_from_my_name(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        response = await api.client.get(PROFILE, headers=bearer(ada))

        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        me = (await api.client.get("/api/v1/users/me/", headers=bearer(ada))).json()
        assert body["uuid"] == me["uuid"]
        assert body["organization_name"] == "Ada Lovelace"
        assert body["slug"] == "ada-lovelace"
        assert body["bio"] == ""
        assert body["website"] is None
        assert body["contact_email"] is None
        assert body["logo"] is None
        assert body["social_links"] == {}

    async def test_a_person_without_an_organizer_plan_gets_capability_missing(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user("bob@example.org")

        for response in (
            await api.client.get(PROFILE, headers=bearer(tokens)),
            await change(api, tokens, bio="Hello"),
        ):
            assert response.status_code == 403
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["code"] == "capability_missing"

    async def test_needs_a_token(self, api: Api) -> None:
        assert (await api.client.get(PROFILE)).status_code == 401
        assert (await api.client.patch(PROFILE, json={})).status_code == 401

    async def test_changes_are_kept(self, api: Api, ada: dict[str, str]) -> None:
        response = await change(
            api,
            ada,
            organization_name="Lovelace Learning",
            slug="lovelace-learning",
            bio="Courses on engines.",
            website="https://lovelace.example.org",
            contact_email="events@lovelace.example.org",
            social_links={"linkedin": "https://www.linkedin.com/company/lovelace"},
        )

        assert response.status_code == 200, response.text
        assert await my_profile(api, ada) == response.json()
        body = response.json()
        assert body["slug"] == "lovelace-learning"
        assert body["social_links"] == {
            "linkedin": "https://www.linkedin.com/company/lovelace"
        }
        assert body["updated_at"] is not None

    async def test_a_slug_another_organizer_has_is_taken(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        await my_profile(api, ada)
        bob = await organizer(api, "bob@example.org")

        response = await change(api, bob, slug="Ada-Lovelace")

        assert field_errors(response) == {"slug": "taken"}

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"slug": "admin"}, {"slug": "reserved"}),
            ({"slug": "me"}, {"slug": "invalid_length"}),
            ({"slug": "no spaces"}, {"slug": "invalid"}),
            ({"website": "javascript:alert(1)"}, {"website": "invalid_url"}),
            ({"contact_email": "nobody"}, {"contact_email": "invalid_email"}),
            (
                {"social_links": {"x": "http://x.example"}},
                {"social_links.x": "invalid_url"},
            ),
            ({"logo": "https://elsewhere.example/logo.png"}, {"logo": "read_only"}),
            (
                {"uuid": "00000000-0000-4000-8000-000000000000"},
                {"uuid": "unknown_field"},
            ),
            ({"bio": 42}, {"bio": "invalid"}),
        ],
    )
    async def test_bad_fields_are_named_and_change_nothing(
        self,
        api: Api,
        ada: dict[str, str],
        fields: dict[str, Any],
        expected: dict[str, str],
    ) -> None:
        before = await my_profile(api, ada)

        response = await change(api, ada, **fields)

        assert field_errors(response) == expected
        assert await my_profile(api, ada) == before


class TestLogo:
    async def test_uploading_a_logo_serves_it_without_metadata(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        response = await api.client.post(
            LOGO,
            files={"logo": ("logo.jpg", jpeg_with_gps(), "image/jpeg")},
            headers=bearer(ada),
        )

        assert response.status_code == 200, response.text
        url = response.json()["logo"]
        assert url.startswith("/media/organizers/")
        served = await api.client.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert SECRET.encode() not in served.content
        assert (await my_profile(api, ada))["logo"] == url

    async def test_a_phone_cameras_mpo_logo_is_served_as_a_plain_jpeg(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        response = await api.client.post(
            LOGO,
            files={"logo": ("logo.jpg", mpo_with_gps(), "image/jpeg")},
            headers=bearer(ada),
        )

        assert response.status_code == 200, response.text
        url = response.json()["logo"]
        assert url.endswith(".jpg")
        served = await api.client.get(url)
        assert served.headers["content-type"] == "image/jpeg"
        assert opened(served.content).format == "JPEG"
        assert SECRET.encode() not in served.content

    async def test_a_new_logo_deletes_the_old_file(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        first = await api.client.post(
            LOGO,
            files={"logo": ("a.png", image_bytes("PNG"), "image/png")},
            headers=bearer(ada),
        )
        second = await api.client.post(
            LOGO,
            files={"logo": ("b.webp", image_bytes("WEBP"), "image/webp")},
            headers=bearer(ada),
        )

        assert (await api.client.get(first.json()["logo"])).status_code == 404
        assert (await api.client.get(second.json()["logo"])).status_code == 200

    async def test_a_bad_logo_is_named_and_keeps_the_old_one(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        first = await api.client.post(
            LOGO,
            files={"logo": ("a.png", image_bytes("PNG"), "image/png")},
            headers=bearer(ada),
        )

        response = await api.client.post(
            LOGO,
            files={"logo": ("b.png", b"<svg/>", "image/png")},
            headers=bearer(ada),
        )

        assert field_errors(response) == {"logo": "unsupported_image_type"}
        assert (await my_profile(api, ada))["logo"] == first.json()["logo"]

    async def test_a_missing_logo_field_is_named(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        response = await api.client.post(
            LOGO,
            files={"image": ("a.png", image_bytes("PNG"), "image/png")},
            headers=bearer(ada),
        )

        assert field_errors(response) == {"logo": "required"}

    async def test_a_person_without_an_organizer_plan_cannot_upload(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user("bob@example.org")

        response = await api.client.post(
            LOGO,
            files={"logo": ("a.png", image_bytes("PNG"), "image/png")},
            headers=bearer(tokens),
        )

        assert response.status_code == 403
        assert response.json()["code"] == "capability_missing"
        media = api.container.settings().resolved_media_dir
        assert not media.exists() or not any(media.rglob("*.png"))


class TestPublicPage:
    async def test_shows_public_fields_and_upcoming_public_events_without_a_token(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        await change(
            api,
            ada,
            bio="Engines.",
            contact_email="events@lovelace.example.org",
            website="https://lovelace.example.org",
        )
        listed = await published_event(api, ada, "Listed")
        await published_event(api, ada, "Unlisted", visibility="unlisted")
        draft = await api.client.post(
            "/api/v1/events/",
            json={
                "title": "Draft",
                "timezone": "Europe/Paris",
                "starts_at": START.isoformat(),
                "ends_at": (START + timedelta(hours=1)).isoformat(),
            },
            headers=bearer(ada),
        )
        assert draft.status_code == 201
        uuid = (await my_profile(api, ada))["uuid"]

        response = await api.client.get(f"/api/v1/organizers/{uuid}/")

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["uuid"] == uuid
        assert body["organization_name"] == "Ada Lovelace"
        assert body["bio"] == "Engines."
        assert body["contact_email"] == "events@lovelace.example.org"
        assert "ada@example.org" not in response.text
        assert "created_at" not in body
        assert body["events"]["count"] == 1
        [event] = body["events"]["results"]
        assert event["uuid"] == listed
        assert event["title"] == "Listed"

    async def test_an_unknown_uuid_is_not_found(self, api: Api) -> None:
        response = await api.client.get(
            "/api/v1/organizers/00000000-0000-4000-8000-000000000000/"
        )

        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_a_person_without_an_organizer_plan_is_not_found(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user("bob@example.org")
        me = (await api.client.get("/api/v1/users/me/", headers=bearer(tokens))).json()

        response = await api.client.get(f"/api/v1/organizers/{me['uuid']}/")

        assert response.status_code == 404
