"""The event image upload over HTTP, and the served file, on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.http.uploads import MULTIPART_PART_LIMIT
from platform_core.files.model import IMAGE_MAX_BYTES
from tests.contract.http.conftest import Api, bearer
from tests.images import (
    SECRET,
    animated_mixed,
    image_bytes,
    jpeg_with_gps,
    mpo_with_gps,
    noise_jpeg,
    opened,
    png_bomb,
    truncated,
)

PROBLEM = "application/problem+json"
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


async def an_event(api: Api, tokens: dict[str, str]) -> str:
    response = await api.client.post(
        "/api/v1/events/",
        json={
            "title": "Cardiology update",
            "description": "What changed in the guidelines this year.",
            "timezone": "Europe/Paris",
            "starts_at": START.isoformat(),
            "ends_at": (START + timedelta(hours=2)).isoformat(),
        },
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    uuid: str = response.json()["uuid"]
    return uuid


async def upload(
    api: Api,
    tokens: dict[str, str],
    event: str,
    content: bytes,
    *,
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
    field: str = "image",
) -> Any:
    return await api.client.post(
        f"/api/v1/events/{event}/upload-image/",
        files={field: (name, content, content_type)},
        headers=bearer(tokens),
    )


def refusal(response: Any) -> tuple[str, str]:
    """The one field error of a 400 problem document, as (field, code)."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    [error] = response.json()["errors"]
    return error["field"], error["code"]


async def shown_image(api: Api, tokens: dict[str, str], event: str) -> str | None:
    response = await api.client.get(f"/api/v1/events/{event}/", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    shown: str | None = response.json()["featured_image"]
    return shown


def file_name(url_or_key: str | None) -> str | None:
    return None if url_or_key is None else url_or_key.rsplit("/", 1)[-1]


@pytest.fixture
async def ada(api: Api) -> dict[str, str]:
    return await organizer(api)


@pytest.fixture
async def event(api: Api, ada: dict[str, str]) -> str:
    return await an_event(api, ada)


class TestUploading:
    async def test_the_event_comes_back_with_the_served_url(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await upload(api, ada, event, jpeg_with_gps())

        assert response.status_code == 200, response.text
        body = response.json()
        assert body["uuid"] == event
        assert body["title"] == "Cardiology update"
        url = body["featured_image"]
        assert url.startswith(f"/media/events/{event}/")
        assert url.endswith(".jpg")
        assert await shown_image(api, ada, event) == url

    async def test_a_phone_cameras_mpo_is_served_as_a_plain_jpeg(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await upload(api, ada, event, mpo_with_gps(orientation=6))

        assert response.status_code == 200, response.text
        url = response.json()["featured_image"]
        assert url.endswith(".jpg")
        served = await api.client.get(url)
        assert served.headers["content-type"] == "image/jpeg"
        image = opened(served.content)
        assert image.format == "JPEG"
        assert image.size == (20, 40)
        assert getattr(image, "n_frames", 1) == 1
        assert SECRET.encode() not in served.content

    @pytest.mark.parametrize(
        ("pillow_format", "content_type", "suffix"),
        [("WEBP", "image/webp", ".webp"), ("PNG", "image/png", ".png")],
    )
    async def test_an_animation_is_served_as_its_first_frame(
        self,
        api: Api,
        ada: dict[str, str],
        event: str,
        pillow_format: str,
        content_type: str,
        suffix: str,
    ) -> None:
        response = await upload(
            api,
            ada,
            event,
            animated_mixed(pillow_format),
            name=f"anim{suffix}",
            content_type=content_type,
        )

        assert response.status_code == 200, response.text
        url = response.json()["featured_image"]
        assert url.endswith(suffix)
        served = await api.client.get(url)
        assert getattr(opened(served.content), "n_frames", 1) == 1

    async def test_deleting_the_event_deletes_its_file(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        url = (await upload(api, ada, event, jpeg_with_gps())).json()["featured_image"]
        assert (await api.client.get(url)).status_code == 200

        deleted = await api.client.delete(
            f"/api/v1/events/{event}/", headers=bearer(ada)
        )

        assert deleted.status_code == 204, deleted.text
        assert (await api.client.get(url)).status_code == 404

    async def test_the_public_list_and_detail_show_the_served_url(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        url = (await upload(api, ada, event, jpeg_with_gps())).json()["featured_image"]
        published = await api.client.post(
            f"/api/v1/events/{event}/publish/",
            json={"published": True},
            headers=bearer(ada),
        )
        assert published.status_code == 200, published.text

        detail = await api.client.get(f"/api/v1/public/events/{event}/")
        listed = await api.client.get("/api/v1/public/events/")

        assert detail.json()["featured_image"] == url
        assert [card["featured_image"] for card in listed.json()["results"]] == [url]

    async def test_the_served_file_has_the_bytes_type_and_headers(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        url = (await upload(api, ada, event, image_bytes("PNG"))).json()[
            "featured_image"
        ]

        served = await api.client.get(url)

        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "max-age=31536000" in served.headers["cache-control"]
        assert "immutable" in served.headers["cache-control"]
        assert opened(served.content).size == (40, 20)
        stored = api.container.settings().resolved_media_dir / url.removeprefix(
            "/media/"
        )
        assert served.content == stored.read_bytes()

    async def test_gps_exif_does_not_reach_the_served_file(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        url = (await upload(api, ada, event, jpeg_with_gps(orientation=6))).json()[
            "featured_image"
        ]

        served = await api.client.get(url)

        assert SECRET.encode() not in served.content
        image = opened(served.content)
        assert dict(image.getexif()) == {}
        assert image.size == (20, 40)

    async def test_the_type_comes_from_the_content_not_the_name(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await upload(
            api,
            ada,
            event,
            image_bytes("WEBP"),
            name="holiday.png",
            content_type="image/png",
        )

        url = response.json()["featured_image"]
        assert url.endswith(".webp")
        served = await api.client.get(url)
        assert served.headers["content-type"] == "image/webp"

    async def test_a_new_image_replaces_the_old_file(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        first = (await upload(api, ada, event, image_bytes("PNG"))).json()[
            "featured_image"
        ]

        second = (await upload(api, ada, event, image_bytes("JPEG"))).json()[
            "featured_image"
        ]

        assert second != first
        assert (await api.client.get(first)).status_code == 404
        assert (await api.client.get(second)).status_code == 200
        assert file_name(await shown_image(api, ada, event)) == file_name(second)

    async def test_an_image_larger_than_the_general_body_limit_is_accepted(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        content = noise_jpeg()
        assert len(content) > api.container.settings().max_request_bytes

        response = await upload(api, ada, event, content)

        assert response.status_code == 200, response.text


class TestRefused:
    @pytest.mark.parametrize(
        ("content", "name", "code"),
        [
            (b"just text\n", "notes.png", "unsupported_image_type"),
            (image_bytes("GIF"), "anim.gif", "unsupported_image_type"),
            (
                image_bytes("PNG", (6001, 1), mode="L", color=0),
                "wide.png",
                "image_dimensions_too_large",
            ),
            (
                truncated(image_bytes("JPEG", (300, 200), color=None)),
                "cut.jpg",
                "invalid_image",
            ),
            (png_bomb(), "bomb.png", "image_dimensions_too_large"),
            (
                image_bytes("PNG") + b"\x00" * IMAGE_MAX_BYTES,
                "huge.png",
                "image_too_large",
            ),
        ],
        ids=["text-named-png", "gif", "6001px", "truncated", "bomb", "over-5mib"],
    )
    async def test_a_bad_file_is_a_problem_naming_image(
        self,
        api: Api,
        ada: dict[str, str],
        event: str,
        content: bytes,
        name: str,
        code: str,
    ) -> None:
        response = await upload(api, ada, event, content, name=name)

        assert refusal(response) == ("image", code)
        assert response.json()["code"] == "validation_error"

    async def test_a_bad_file_leaves_the_old_image_in_place(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        old = (await upload(api, ada, event, image_bytes("PNG"))).json()[
            "featured_image"
        ]

        response = await upload(api, ada, event, b"not an image", name="x.png")

        assert response.status_code == 400
        assert file_name(await shown_image(api, ada, event)) == file_name(old)
        assert (await api.client.get(old)).status_code == 200
        media = api.container.settings().resolved_media_dir / "events" / event
        assert [p.name for p in media.iterdir()] == [file_name(old)]

    async def test_a_body_far_over_the_upload_limit_is_413(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await upload(api, ada, event, b"\x00" * (IMAGE_MAX_BYTES * 2))

        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"

    async def test_a_form_of_too_many_parts_is_413_and_keeps_no_image(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        parts = [("image", ("photo.png", image_bytes("PNG"), "image/png"))]
        parts += [(f"note{n}", (None, b"x")) for n in range(MULTIPART_PART_LIMIT)]

        response = await api.client.post(
            f"/api/v1/events/{event}/upload-image/", files=parts, headers=bearer(ada)
        )

        assert response.status_code == 413, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "request_too_large"
        assert "parts" in response.json()["detail"]
        assert await shown_image(api, ada, event) is None

    async def test_a_few_extra_form_fields_are_ignored(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        parts = [("image", ("photo.png", image_bytes("PNG"), "image/png"))]
        parts += [(f"note{n}", (None, b"x")) for n in range(MULTIPART_PART_LIMIT - 1)]

        response = await api.client.post(
            f"/api/v1/events/{event}/upload-image/", files=parts, headers=bearer(ada)
        )

        assert response.status_code == 200, response.text

    async def test_a_missing_image_field_is_named(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await upload(api, ada, event, image_bytes("PNG"), field="file")

        assert refusal(response) == ("image", "required")

    async def test_text_in_the_image_field_is_refused(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await api.client.post(
            f"/api/v1/events/{event}/upload-image/",
            files={"image": (None, b"hello")},
            headers=bearer(ada),
        )

        assert refusal(response)[0] == "image"

    async def test_a_json_body_is_refused(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        response = await api.client.post(
            f"/api/v1/events/{event}/upload-image/",
            json={"image": "aGVsbG8="},
            headers=bearer(ada),
        )

        assert response.status_code == 400
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_a_cancelled_event_takes_no_image(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        old = (await upload(api, ada, event, image_bytes("PNG"))).json()[
            "featured_image"
        ]
        cancelled = await api.client.post(
            f"/api/v1/events/{event}/cancel/", headers=bearer(ada)
        )
        assert cancelled.status_code == 200, cancelled.text

        response = await upload(api, ada, event, image_bytes("JPEG"))

        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "event_cancelled"
        assert file_name(await shown_image(api, ada, event)) == file_name(old)
        media = api.container.settings().resolved_media_dir / "events" / event
        assert [p.name for p in media.iterdir()] == [file_name(old)]


class TestAccess:
    async def test_another_organizers_event_is_not_found(
        self, api: Api, ada: dict[str, str], event: str
    ) -> None:
        bob = await organizer(api, "bob@example.org")

        response = await upload(api, bob, event, image_bytes("PNG"))

        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert await shown_image(api, ada, event) is None

    async def test_an_unknown_event_is_not_found(
        self, api: Api, ada: dict[str, str]
    ) -> None:
        response = await upload(
            api, ada, "00000000-0000-4000-8000-000000000000", image_bytes("PNG")
        )

        assert response.status_code == 404

    async def test_needs_a_token(self, api: Api, event: str) -> None:
        response = await api.client.post(
            f"/api/v1/events/{event}/upload-image/",
            files={"image": ("a.png", image_bytes("PNG"), "image/png")},
        )

        assert response.status_code == 401


class TestServedFiles:
    @pytest.mark.parametrize(
        "path",
        [
            "/media/events/none/missing.png",
            "/media/%2e%2e/secret.key",
            "/media/..%2fsecret.key",
            "/media/.hidden",
            "/media/",
        ],
    )
    async def test_anything_but_a_stored_file_is_not_found(
        self, api: Api, path: str
    ) -> None:
        secret = api.container.settings().data_dir / "secret.key"
        secret.write_text("do not serve")

        response = await api.client.get(path)

        assert response.status_code == 404
        assert b"do not serve" not in response.content
