"""An organizer's logo: checked, stored sanitized, and the old file removed."""

from __future__ import annotations

import pytest

from platform_core.shared.errors import PermissionDenied, ValidationFailed
from tests.images import SECRET, image_bytes, jpeg_with_gps, opened

from .conftest import World


class TestSettingALogo:
    async def test_the_logo_is_stored_sanitized_under_the_organizers_folder(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")

        profile = await world.core.platform.profiles.set_logo(ada, jpeg_with_gps())

        assert profile.logo is not None
        assert profile.logo.startswith(f"organizers/{ada.user_id}/")
        assert profile.logo.endswith(".jpg")
        stored = world.adapters.storage.files[profile.logo]
        assert stored.content_type == "image/jpeg"
        assert SECRET.encode() not in stored.content
        assert opened(stored.content).format == "JPEG"
        assert world.core.platform.media.url_for(profile.logo) == (
            f"/media/{profile.logo}"
        )

    async def test_a_new_logo_replaces_the_old_file(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        profiles = world.core.platform.profiles
        first = await profiles.set_logo(ada, image_bytes("PNG"))

        second = await profiles.set_logo(ada, image_bytes("WEBP"))

        assert second.logo != first.logo
        assert list(world.adapters.storage.files) == [second.logo]
        assert (await profiles.organizer_profile(ada)).logo == second.logo

    async def test_a_bad_file_keeps_the_old_logo_and_stores_nothing(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        profiles = world.core.platform.profiles
        first = await profiles.set_logo(ada, image_bytes("PNG"))

        with pytest.raises(ValidationFailed) as raised:
            await profiles.set_logo(ada, b"GIF89a not really")

        assert [(e.field, e.code) for e in raised.value.errors] == [
            ("logo", "unsupported_image_type")
        ]
        assert list(world.adapters.storage.files) == [first.logo]
        assert (await profiles.organizer_profile(ada)).logo == first.logo

    async def test_a_person_without_an_organizer_plan_stores_no_file(
        self, world: World
    ) -> None:
        bob = await world.person("bob@example.org")

        with pytest.raises(PermissionDenied):
            await world.core.platform.profiles.set_logo(bob, image_bytes("PNG"))

        assert world.adapters.storage.files == {}
