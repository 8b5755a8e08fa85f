"""An event's featured image: only its organizer sets it, a bad file changes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.memory import build_memory_platform
from platform_core.shared.errors import (
    Conflict,
    NotConfigured,
    NotFound,
    ValidationFailed,
)
from tests.images import SECRET, image_bytes, jpeg_with_gps, png_bomb, truncated
from tests.support import CLIENT
from tests.unit.profiles.conftest import World


class TestSettingTheImage:
    async def test_the_image_is_stored_sanitized_under_the_events_folder(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        event = await world.event(ada)

        changed = await world.core.platform.event_images.set_featured_image(
            ada, event.id, jpeg_with_gps(), CLIENT
        )

        key = changed.featured_image
        assert key is not None
        assert key.startswith(f"events/{event.id}/")
        assert key.endswith(".jpg")
        stored = world.adapters.storage.files[key]
        assert SECRET.encode() not in stored.content
        assert stored.content_type == "image/jpeg"
        again = await world.core.platform.events.get_event(ada, event.id)
        assert again.featured_image == key

    async def test_a_new_image_replaces_the_old_file(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        event = await world.event(ada)
        images = world.core.platform.event_images
        first = await images.set_featured_image(ada, event.id, image_bytes("PNG"))

        second = await images.set_featured_image(ada, event.id, image_bytes("WEBP"))

        assert second.featured_image != first.featured_image
        assert list(world.adapters.storage.files) == [second.featured_image]

    @pytest.mark.parametrize(
        ("content", "code"),
        [
            (b"plain text", "unsupported_image_type"),
            (truncated(image_bytes("JPEG", (300, 200), color=None)), "invalid_image"),
            (png_bomb(), "image_dimensions_too_large"),
        ],
        ids=["text", "truncated", "bomb"],
    )
    async def test_a_bad_file_keeps_the_old_image_in_place(
        self, world: World, content: bytes, code: str
    ) -> None:
        ada = await world.organizer("ada@example.org")
        event = await world.event(ada)
        images = world.core.platform.event_images
        first = await images.set_featured_image(ada, event.id, image_bytes("PNG"))

        with pytest.raises(ValidationFailed) as raised:
            await images.set_featured_image(ada, event.id, content)

        assert [(e.field, e.code) for e in raised.value.errors] == [("image", code)]
        kept = await world.core.platform.events.get_event(ada, event.id)
        assert kept.featured_image == first.featured_image
        assert list(world.adapters.storage.files) == [first.featured_image]


class TestCancelledEvents:
    @pytest.mark.parametrize(
        "content", [image_bytes("PNG"), b"not an image"], ids=["valid", "invalid"]
    )
    async def test_a_cancelled_event_takes_no_image_and_keeps_its_own(
        self, world: World, content: bytes
    ) -> None:
        ada = await world.organizer("ada@example.org")
        event = await world.event(ada)
        images = world.core.platform.event_images
        first = await images.set_featured_image(ada, event.id, image_bytes("JPEG"))
        await world.core.platform.events.cancel_event(ada, event.id)

        with pytest.raises(Conflict) as raised:
            await images.set_featured_image(ada, event.id, content)

        assert raised.value.code == "event_cancelled"
        kept = await world.core.platform.events.get_event(ada, event.id)
        assert kept.featured_image == first.featured_image
        assert list(world.adapters.storage.files) == [first.featured_image]


class TestOtherOrganizers:
    @pytest.mark.parametrize(
        "content", [image_bytes("PNG"), b"not an image"], ids=["valid", "invalid"]
    )
    async def test_another_organizers_event_is_not_found_whatever_the_file(
        self, world: World, content: bytes
    ) -> None:
        ada = await world.organizer("ada@example.org")
        bob = await world.organizer("bob@example.org")
        event = await world.event(ada)

        with pytest.raises(NotFound):
            await world.core.platform.event_images.set_featured_image(
                bob, event.id, content
            )

        assert world.adapters.storage.files == {}
        unchanged = await world.core.platform.events.get_event(ada, event.id)
        assert unchanged.featured_image is None


async def test_without_an_image_checker_uploads_are_not_configured(
    world: World,
) -> None:
    ada = await world.organizer("ada@example.org")
    event = await world.event(ada)
    adapters = dataclasses.replace(world.adapters, image_checker=None)
    adapters.payments = world.adapters.payments
    platform, _ = build_memory_platform("https://app.test", adapters)

    with pytest.raises(NotConfigured) as raised:
        await platform.event_images.set_featured_image(
            ada, event.id, image_bytes("PNG")
        )

    assert raised.value.code == "storage_not_configured"
