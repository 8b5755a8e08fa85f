"""What the profiles context needs from the outside."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from platform_core.profiles.model import OrganizerProfile


class DuplicateProfileSlug(Exception):
    """Another organizer's profile already has this slug."""


class DuplicateProfile(Exception):
    """The organizer already has a profile."""


class OrganizerProfileRepository(Protocol):
    async def add(self, profile: OrganizerProfile) -> None:
        """Raises DuplicateProfile or DuplicateProfileSlug; the transaction survives."""
        ...

    async def get(self, user_id: UUID) -> OrganizerProfile | None: ...

    async def get_by_slug(self, slug: str) -> OrganizerProfile | None: ...

    async def update(self, profile: OrganizerProfile) -> None:
        """Raises DuplicateProfileSlug when the new slug is taken."""
        ...

    async def slugs_like(self, base: str) -> set[str]:
        """Every slug equal to `base` or starting with `base-`."""
        ...
