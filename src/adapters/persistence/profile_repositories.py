"""The organizer profile repository over one SQLAlchemy connection."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Insert, Update

from adapters.persistence.tables import organizer_profiles
from platform_core.profiles.model import OrganizerProfile
from platform_core.profiles.ports import DuplicateProfile, DuplicateProfileSlug


def _profile_values(profile: OrganizerProfile) -> dict[str, Any]:
    return {
        "user_id": profile.user_id,
        "organization_name": profile.organization_name,
        "slug": profile.slug,
        "bio": profile.bio,
        "website": profile.website,
        "contact_email": profile.contact_email,
        "logo": profile.logo,
        "social_links": dict(profile.social_links),
        "timezone": profile.timezone,
        "created_at": profile.created_at,
        "updated_at": profile.updated_at,
    }


def _profile_from_row(row: RowMapping) -> OrganizerProfile:
    return OrganizerProfile(
        user_id=row["user_id"],
        organization_name=row["organization_name"],
        slug=row["slug"],
        bio=row["bio"],
        website=row["website"],
        contact_email=row["contact_email"],
        logo=row["logo"],
        social_links={str(k): str(v) for k, v in row["social_links"].items()},
        timezone=row["timezone"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _conflict(error: IntegrityError, profile: OrganizerProfile) -> Exception | None:
    """The domain error a refused write stands for, if it is one of ours."""
    # PostgreSQL names the constraint; SQLite names the column.
    message = str(error.orig)
    if "uq_organizer_profiles_slug" in message or "organizer_profiles.slug" in message:
        return DuplicateProfileSlug(profile.slug)
    if "pk_organizer_profiles" in message or "organizer_profiles.user_id" in message:
        return DuplicateProfile(profile.user_id)
    return None


class SqlOrganizerProfileRepository:
    """Profiles keyed by their user.

    Writes run in a savepoint, so a refused slug leaves the transaction usable.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, profile: OrganizerProfile) -> None:
        await self._write(
            insert(organizer_profiles).values(_profile_values(profile)), profile
        )

    async def get(self, user_id: UUID) -> OrganizerProfile | None:
        return await self._one(organizer_profiles.c.user_id == user_id)

    async def get_by_slug(self, slug: str) -> OrganizerProfile | None:
        return await self._one(organizer_profiles.c.slug == slug)

    async def update(self, profile: OrganizerProfile) -> None:
        values = _profile_values(profile)
        del values["user_id"], values["created_at"]
        statement = (
            update(organizer_profiles)
            .where(organizer_profiles.c.user_id == profile.user_id)
            .values(values)
        )
        if await self._write(statement, profile) == 0:
            raise KeyError(profile.user_id)

    async def slugs_like(self, base: str) -> set[str]:
        prefix = f"{base}-"
        slug = organizer_profiles.c.slug
        result = await self._connection.execute(
            select(slug).where(
                or_(slug == base, slug.startswith(prefix, autoescape=True))
            )
        )
        # SQLite's LIKE ignores the case of ASCII letters; slugs match exactly.
        return {s for s in result.scalars() if s == base or s.startswith(prefix)}

    async def _one(self, condition: ColumnElement[bool]) -> OrganizerProfile | None:
        result = await self._connection.execute(
            select(organizer_profiles).where(condition)
        )
        row = result.mappings().one_or_none()
        return _profile_from_row(row) if row else None

    async def _write(
        self, statement: Insert | Update, profile: OrganizerProfile
    ) -> int:
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            if (conflict := _conflict(error, profile)) is not None:
                raise conflict from error
            raise
        return result.rowcount
