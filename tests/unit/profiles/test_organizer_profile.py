"""An organizer's own profile: created on first read, edited within its rules."""

from __future__ import annotations

from typing import Any

import pytest

from platform_core.identity.model import Principal
from platform_core.profiles.model import SOCIAL_LINKS_MAX
from platform_core.shared.errors import PermissionDenied, ValidationFailed
from platform_core.shared.pagination import PageRequest
from tests.support import CLIENT

from .conftest import World


async def refused_fields(
    world: World, actor: Principal, changes: dict[str, Any]
) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        await world.core.platform.profiles.update_organizer_profile(actor, changes)
    return [(e.field, e.code) for e in raised.value.errors]


class TestFirstRead:
    async def test_creates_a_profile_from_the_organizers_name(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")

        profile = await world.core.platform.profiles.organizer_profile(ada)

        assert profile.user_id == ada.user_id
        assert profile.organization_name == "Ada Lovelace"
        assert profile.slug == "ada-lovelace"
        assert (profile.bio, profile.website, profile.contact_email) == ("", None, None)
        assert (profile.logo, profile.social_links) == (None, {})

    async def test_reading_again_gives_the_same_profile(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        profiles = world.core.platform.profiles

        first = await profiles.organizer_profile(ada)
        second = await profiles.organizer_profile(ada)

        assert first == second

    async def test_a_second_organizer_of_the_same_name_gets_a_free_slug(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        namesake = await world.organizer("other.ada@example.org")
        profiles = world.core.platform.profiles

        first = await profiles.organizer_profile(ada)
        second = await profiles.organizer_profile(namesake)

        assert (first.slug, second.slug) == ("ada-lovelace", "ada-lovelace-2")

    async def test_a_person_without_an_organizer_plan_has_no_profile(
        self, world: World
    ) -> None:
        bob = await world.person("bob@example.org")

        with pytest.raises(PermissionDenied) as raised:
            await world.core.platform.profiles.organizer_profile(bob)

        assert raised.value.code == "capability_missing"
        assert raised.value.extra["capability"] == "organizer"

    async def test_a_person_without_an_organizer_plan_cannot_edit_one(
        self, world: World
    ) -> None:
        bob = await world.person("bob@example.org")

        with pytest.raises(PermissionDenied):
            await world.core.platform.profiles.update_organizer_profile(
                bob, {"bio": "Hello"}
            )


class TestEditing:
    async def test_every_editable_field_changes_and_is_normalized(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")

        profile = await world.core.platform.profiles.update_organizer_profile(
            ada,
            {
                "organization_name": "  Lovelace Learning  ",
                "slug": "Lovelace-Learning",
                "bio": "Courses on engines.\n",
                "website": "https://lovelace.example.org/",
                "contact_email": " Events@Lovelace.example.org ",
                "social_links": {
                    " LinkedIn ": " https://www.linkedin.com/company/lovelace "
                },
            },
            CLIENT,
        )

        assert profile.organization_name == "Lovelace Learning"
        assert profile.slug == "lovelace-learning"
        assert profile.bio == "Courses on engines."
        assert profile.website == "https://lovelace.example.org/"
        assert profile.contact_email == "Events@lovelace.example.org"
        assert profile.social_links == {
            "linkedin": "https://www.linkedin.com/company/lovelace"
        }
        assert profile.updated_at == world.adapters.clock.now()
        assert await world.core.platform.profiles.organizer_profile(ada) == profile

    async def test_website_and_contact_email_are_cleared_with_null(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        profiles = world.core.platform.profiles
        await profiles.update_organizer_profile(
            ada, {"website": "https://a.example", "contact_email": "a@example.org"}
        )

        profile = await profiles.update_organizer_profile(
            ada, {"website": None, "contact_email": None}
        )

        assert (profile.website, profile.contact_email) == (None, None)

    async def test_a_change_is_audited_with_the_fields_it_touched(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")

        await world.core.platform.profiles.update_organizer_profile(
            ada, {"bio": "Hi", "slug": "ada-courses"}, CLIENT
        )

        page = await world.core.platform.audit.list_records(
            None, PageRequest(), action="profiles.organizer_profile.updated"
        )
        [record] = page.items
        assert record.actor_id == ada.user_id
        assert record.details == {"fields": ["bio", "slug"]}
        assert record.client_address == CLIENT.address


class TestSlugRules:
    @pytest.mark.parametrize(
        ("slug", "code"),
        [
            ("ab", "invalid_length"),
            ("a" * 61, "invalid_length"),
            ("admin", "reserved"),
            ("api", "reserved"),
            ("3059ad4b-c165-4086-8e31-e1d02ad20696", "reserved"),
            ("3059ad4bc16540868e31e1d02ad20696", "reserved"),
            ("me", "invalid_length"),
            ("ME-", "invalid"),
            ("two--hyphens", "invalid"),
            ("-leading", "invalid"),
            ("under_score", "invalid"),
            ("café-society", "invalid"),
            ("with space", "invalid"),
        ],
    )
    async def test_a_slug_outside_the_rules_is_refused(
        self, world: World, slug: str, code: str
    ) -> None:
        ada = await world.organizer("ada@example.org")

        assert await refused_fields(world, ada, {"slug": slug}) == [("slug", code)]

    async def test_me_is_reserved_even_at_a_valid_length(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")

        assert await refused_fields(world, ada, {"slug": "www"}) == [
            ("slug", "reserved")
        ]

    async def test_a_slug_of_60_characters_is_accepted(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")

        profile = await world.core.platform.profiles.update_organizer_profile(
            ada, {"slug": "a" * 60}
        )

        assert profile.slug == "a" * 60

    async def test_another_organizers_slug_is_taken_whatever_its_case(
        self, world: World
    ) -> None:
        ada = await world.organizer("ada@example.org")
        bob = await world.organizer("bob@example.org")
        await world.core.platform.profiles.organizer_profile(ada)

        refused = await refused_fields(world, bob, {"slug": "ADA-Lovelace"})

        assert refused == [("slug", "taken")]
        bobs = await world.core.platform.profiles.organizer_profile(bob)
        assert bobs.slug != "ada-lovelace"

    async def test_sending_ones_own_slug_again_is_fine(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        current = await world.core.platform.profiles.organizer_profile(ada)

        profile = await world.core.platform.profiles.update_organizer_profile(
            ada, {"slug": current.slug, "bio": "Same slug"}
        )

        assert profile.slug == current.slug


class TestOtherRules:
    @pytest.mark.parametrize(
        ("changes", "expected"),
        [
            ({"organization_name": "   "}, [("organization_name", "required")]),
            ({"organization_name": "x" * 201}, [("organization_name", "too_long")]),
            ({"organization_name": "Line\nbreak"}, [("organization_name", "invalid")]),
            ({"organization_name": None}, [("organization_name", "required")]),
            ({"bio": "x" * 5001}, [("bio", "too_long")]),
            ({"website": "javascript:alert(1)"}, [("website", "invalid_url")]),
            ({"website": "ftp://files.example.org"}, [("website", "invalid_url")]),
            ({"website": "https://"}, [("website", "invalid_url")]),
            ({"website": "https://user:pw@example.org"}, [("website", "invalid_url")]),
            ({"contact_email": "not an email"}, [("contact_email", "invalid_email")]),
            (
                {"social_links": {"blog": "http://blog.example.org"}},
                [("social_links.blog", "invalid_url")],
            ),
            (
                {"social_links": {"9lives": "https://example.org"}},
                [("social_links.9lives", "invalid_name")],
            ),
            ({"logo": "https://evil.example/logo.png"}, [("logo", "read_only")]),
            ({"user_id": "someone else"}, [("user_id", "read_only")]),
        ],
    )
    async def test_a_field_outside_its_rules_is_named(
        self,
        world: World,
        changes: dict[str, Any],
        expected: list[tuple[str, str]],
    ) -> None:
        ada = await world.organizer("ada@example.org")

        assert await refused_fields(world, ada, changes) == expected

    async def test_at_most_ten_social_links(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        links = {
            f"site{n}": f"https://{n}.example.org" for n in range(SOCIAL_LINKS_MAX + 1)
        }

        assert await refused_fields(world, ada, {"social_links": links}) == [
            ("social_links", "too_many")
        ]

    async def test_a_refused_change_changes_nothing(self, world: World) -> None:
        ada = await world.organizer("ada@example.org")
        before = await world.core.platform.profiles.organizer_profile(ada)

        await refused_fields(world, ada, {"bio": "New bio", "website": "not a url"})

        assert await world.core.platform.profiles.organizer_profile(ada) == before
