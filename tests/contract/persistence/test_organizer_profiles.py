"""The organizer profile repository, on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest

from platform_core.identity.model import User
from platform_core.profiles.model import OrganizerProfile
from platform_core.profiles.ports import DuplicateProfile, DuplicateProfileSlug
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWorkFactory

from .support import NOW, Given, a_user, in_parallel

PLUS_TWO = timezone(timedelta(hours=2))


def a_profile(user: User, **fields: Any) -> OrganizerProfile:
    defaults: dict[str, Any] = {
        "user_id": user.id,
        "organization_name": "Lovelace Learning",
        "slug": f"lovelace-{new_id().hex[:8]}",
        "created_at": NOW,
    }
    return OrganizerProfile(**(defaults | fields))


def every_field_set(user: User) -> OrganizerProfile:
    return a_profile(
        user,
        organization_name="Société d'Études Cardiologiques — Paris",
        slug="societe-cardio-2031",
        bio="We teach.\nTwo lines, 100% UTF-8: café, 東京.",
        website="https://cardio.example.org/about?lang=fr",
        contact_email="events@cardio.example.org",
        logo="organizers/abc/0123456789abcdef.png",
        social_links={
            "linkedin": "https://www.linkedin.com/company/cardio",
            "mastodon": "https://mastodon.social/@cardio",
        },
        created_at=NOW.astimezone(PLUS_TWO),
        updated_at=NOW + timedelta(seconds=1),
    )


async def add(uow_factory: UnitOfWorkFactory, profile: OrganizerProfile) -> None:
    async with uow_factory() as uow:
        await uow.organizer_profiles.add(profile)
        await uow.commit()


async def stored(uow_factory: UnitOfWorkFactory, user: User) -> OrganizerProfile:
    async with uow_factory() as uow:
        found = await uow.organizer_profiles.get(user.id)
    assert found is not None
    return found


class TestAddAndGet:
    async def test_every_field_reads_back_as_written(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        profile = every_field_set(user)

        await add(uow_factory, profile)

        assert await stored(uow_factory, user) == profile

    async def test_a_profile_is_found_by_its_slug(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        profile = a_profile(user, slug="lovelace-learning")
        await add(uow_factory, profile)

        async with uow_factory() as uow:
            found = await uow.organizer_profiles.get_by_slug("lovelace-learning")
            missing = await uow.organizer_profiles.get_by_slug("nobody-here")

        assert found == profile
        assert missing is None

    async def test_a_user_without_a_profile_has_none(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)

        async with uow_factory() as uow:
            assert await uow.organizer_profiles.get(user.id) is None

    async def test_a_second_profile_for_one_user_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        await add(uow_factory, a_profile(user))

        async with uow_factory() as uow:
            with pytest.raises(DuplicateProfile):
                await uow.organizer_profiles.add(a_profile(user))


class TestSlugUniqueness:
    async def test_a_taken_slug_is_refused_and_the_transaction_goes_on(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        first, second = a_user(), a_user()
        await given(first, second)
        await add(uow_factory, a_profile(first, slug="taken-slug"))

        async with uow_factory() as uow:
            with pytest.raises(DuplicateProfileSlug):
                await uow.organizer_profiles.add(a_profile(second, slug="taken-slug"))
            await uow.organizer_profiles.add(a_profile(second, slug="free-slug"))
            await uow.commit()

        assert (await stored(uow_factory, second)).slug == "free-slug"

    async def test_an_update_to_a_taken_slug_is_refused(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        first, second = a_user(), a_user()
        await given(first, second)
        await add(uow_factory, a_profile(first, slug="first-slug"))
        mine = a_profile(second, slug="second-slug")
        await add(uow_factory, mine)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateProfileSlug):
                await uow.organizer_profiles.update(replace(mine, slug="first-slug"))

        assert (await stored(uow_factory, second)).slug == "second-slug"

    async def test_concurrent_claims_of_one_slug_leave_one_winner(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        users = [a_user() for _ in range(6)]
        await given(*users)
        pending = iter(users)

        async def claim(uow: Any) -> bool:
            try:
                await uow.organizer_profiles.add(
                    a_profile(next(pending), slug="popular")
                )
            except DuplicateProfileSlug:
                return False
            return True

        results = await in_parallel(uow_factory, len(users), claim)

        assert results.count(True) == 1

    async def test_slugs_like_finds_the_base_and_its_numbered_forms_only(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        users = [a_user() for _ in range(5)]
        await given(*users)
        slugs = ["ada", "ada-2", "ada-lovelace", "adam", "xada"]
        for user, slug in zip(users, slugs, strict=True):
            await add(uow_factory, a_profile(user, slug=slug))

        async with uow_factory() as uow:
            found = await uow.organizer_profiles.slugs_like("ada")

        assert found == {"ada", "ada-2", "ada-lovelace"}


class TestUpdate:
    async def test_every_changeable_field_is_written(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        await add(uow_factory, a_profile(user))
        changed = replace(every_field_set(user), created_at=NOW)

        async with uow_factory() as uow:
            await uow.organizer_profiles.update(changed)
            await uow.commit()

        assert await stored(uow_factory, user) == changed

    async def test_clearing_optional_fields_stores_nulls(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        full = replace(every_field_set(user), created_at=NOW)
        await add(uow_factory, full)
        cleared = replace(
            full, website=None, contact_email=None, logo=None, social_links={}
        )

        async with uow_factory() as uow:
            await uow.organizer_profiles.update(cleared)
            await uow.commit()

        assert await stored(uow_factory, user) == cleared

    async def test_updating_a_missing_profile_is_an_error(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)

        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.organizer_profiles.update(a_profile(user))

    async def test_a_rolled_back_change_is_not_kept(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        user = a_user()
        await given(user)
        profile = a_profile(user)
        await add(uow_factory, profile)

        async with uow_factory() as uow:
            await uow.organizer_profiles.update(replace(profile, bio="draft"))
            await uow.rollback()

        assert (await stored(uow_factory, user)).bio == ""
