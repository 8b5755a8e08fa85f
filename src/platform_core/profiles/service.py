"""Use cases of organizer profiles: the organizer's own page and its public view."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Mails
from platform_core.billing.model import Capability
from platform_core.events.model import CatalogueFilter, Event
from platform_core.files.service import MediaFiles
from platform_core.identity.model import ClientInfo, Principal
from platform_core.outbox.ports import MessageDispatcher
from platform_core.profiles.model import (
    DEFAULT_ORGANIZATION_NAME,
    ORGANIZATION_NAME_MAX,
    OrganizerProfile,
    clean_email,
    clean_social_links,
    slug_base,
)
from platform_core.profiles.ports import DuplicateProfile, DuplicateProfileSlug
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    FieldErrors,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

PUBLIC_EVENTS_LIMIT = 50
"""How many upcoming events the public organizer page lists, soonest first."""

EDITABLE = frozenset(
    {
        "organization_name",
        "slug",
        "bio",
        "website",
        "contact_email",
        "social_links",
        "timezone",
    }
)
"""Profile fields an organizer sets directly; the logo has its own upload."""

_SLUG_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class PublicOrganizer:
    """An organizer's public profile and a page of their upcoming public events."""

    profile: OrganizerProfile
    events: Sequence[Event]
    total_events: int


class ProfileService:
    """Organizer profiles: read and edit one's own, show anyone's public page."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        entitlements: Entitlements,
        dispatcher: MessageDispatcher,
        media: MediaFiles,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._entitlements = entitlements
        self._dispatcher = dispatcher
        self._media = media

    async def organizer_profile(self, actor: Principal) -> OrganizerProfile:
        """The caller's profile, created with defaults on the first read."""
        mails = Mails()
        async with self._uow() as uow:
            await self._require_organizer(uow, actor.user_id, mails)
            profile = await self._profile_in(uow, actor.user_id)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return profile

    async def update_organizer_profile(
        self,
        actor: Principal,
        changes: Mapping[str, Any],
        client: ClientInfo | None = None,
    ) -> OrganizerProfile:
        """Change any editable field; a slug another organizer has is refused."""
        cleaned = _cleaned(changes)
        mails = Mails()
        async with self._uow() as uow:
            await self._require_organizer(uow, actor.user_id, mails)
            profile = await self._profile_in(uow, actor.user_id)
            changed = replace(profile, **cleaned)
            changed.check()
            if changed.slug != profile.slug:
                holder = await uow.organizer_profiles.get_by_slug(changed.slug)
                if holder is not None and holder.user_id != actor.user_id:
                    raise _slug_taken(changed.slug)
            changed.updated_at = self._clock.now()
            try:
                await uow.organizer_profiles.update(changed)
            except DuplicateProfileSlug as error:
                raise _slug_taken(changed.slug) from error
            await self._audit(
                uow,
                "profiles.organizer_profile.updated",
                actor,
                client,
                fields=sorted(cleaned),
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        log.info(
            "profiles.organizer_profile.updated",
            user=str(actor.user_id),
            fields=sorted(cleaned),
        )
        return changed

    async def set_logo(
        self, actor: Principal, content: bytes, client: ClientInfo | None = None
    ) -> OrganizerProfile:
        """Check and store a new logo; the old file goes once the change is committed.

        A refused image changes nothing: the old logo stays.
        """
        await self._entitlements.require(actor.user_id, Capability.ORGANIZER)
        key = await self._media.store_image(
            content, field="logo", folder=f"organizers/{actor.user_id}"
        )
        mails = Mails()
        try:
            async with self._uow() as uow:
                await self._require_organizer(uow, actor.user_id, mails)
                profile = await self._profile_in(uow, actor.user_id)
                previous, profile.logo = profile.logo, key
                profile.updated_at = self._clock.now()
                await uow.organizer_profiles.update(profile)
                await self._audit(
                    uow, "profiles.organizer_profile.logo_changed", actor, client
                )
                await uow.commit()
        except BaseException:
            await self._media.discard(key)
            raise
        await self._dispatcher.dispatch(mails.ids)
        await self._media.discard(previous)
        return profile

    async def public_organizer(self, identifier: str) -> PublicOrganizer:
        """An organizer's public page by user uuid or profile slug.

        Unknown people and people without an organizer plan are not found.
        """
        mails = Mails()
        async with self._uow() as uow:
            user_id = await self._organizer_id(uow, identifier)
            user = None if user_id is None else await uow.users.get(user_id)
            if user is None or not user.is_active:
                raise _no_organizer()
            try:
                await self._require_organizer(uow, user.id, mails)
            except PermissionDenied as error:
                raise _no_organizer() from error
            profile = await self._profile_in(uow, user.id)
            events, total = await uow.events.catalogue(
                CatalogueFilter(organizer_id=user.id),
                self._clock.now(),
                offset=0,
                limit=PUBLIC_EVENTS_LIMIT,
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return PublicOrganizer(profile=profile, events=events, total_events=total)

    async def _require_organizer(
        self, uow: UnitOfWork, user_id: UUID, mails: Mails
    ) -> None:
        await self._entitlements.require_in(uow, user_id, Capability.ORGANIZER, mails)

    @staticmethod
    async def _organizer_id(uow: UnitOfWork, identifier: str) -> UUID | None:
        try:
            return UUID(identifier)
        except ValueError:
            profile = await uow.organizer_profiles.get_by_slug(identifier.lower())
            return None if profile is None else profile.user_id

    async def _profile_in(self, uow: UnitOfWork, user_id: UUID) -> OrganizerProfile:
        """The user's profile; a first one is made from their name with a free slug."""
        existing = await uow.organizer_profiles.get(user_id)
        if existing is not None:
            return existing
        user = await uow.users.get(user_id)
        name = (user.full_name if user else "") or DEFAULT_ORGANIZATION_NAME
        base = slug_base(name)
        for attempt in range(1, _SLUG_ATTEMPTS + 1):
            profile = OrganizerProfile(
                user_id=user_id,
                organization_name=name[:ORGANIZATION_NAME_MAX],
                slug=await _free_slug(uow, base, attempt),
                created_at=self._clock.now(),
            )
            try:
                await uow.organizer_profiles.add(profile)
            except DuplicateProfileSlug:
                if attempt == _SLUG_ATTEMPTS:
                    raise
                continue
            except DuplicateProfile:
                raced = await uow.organizer_profiles.get(user_id)
                if raced is None:
                    raise
                return raced
            log.info(
                "profiles.organizer_profile.created",
                user=str(user_id),
                slug=profile.slug,
            )
            return profile
        raise AssertionError("unreachable")

    async def _audit(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Principal,
        client: ClientInfo | None,
        **details: Any,
    ) -> None:
        await write_audit(
            uow.audit,
            action,
            at=self._clock.now(),
            actor_id=actor.user_id,
            target_type="organizer_profile",
            target_id=actor.user_id,
            client=client,
            **details,
        )


async def _free_slug(uow: UnitOfWork, base: str, attempt: int) -> str:
    if attempt > 1:
        return f"{base}-{secrets.token_hex(3)}"
    taken = await uow.organizer_profiles.slugs_like(base)
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _cleaned(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes trimmed and normalized, or ValidationFailed naming bad fields."""
    errors = FieldErrors()
    for name in sorted(set(changes) - EDITABLE):
        errors.add(name, "read_only", "This field cannot be changed here.")
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            continue
        if value is None and name not in ("website", "contact_email"):
            errors.add(name, "required", "This field cannot be null.")
        elif name in ("organization_name", "bio"):
            cleaned[name] = value.strip()
        elif name == "slug":
            cleaned[name] = value.strip().lower()
        elif name == "website":
            cleaned[name] = (value or "").strip() or None
        elif name == "contact_email":
            address = (value or "").strip()
            try:
                cleaned[name] = clean_email(address) if address else None
            except ValueError as error:
                errors.add(name, "invalid_email", str(error))
        elif name == "social_links":
            cleaned[name] = clean_social_links(value)
        elif name == "timezone":
            cleaned[name] = value.strip()
    errors.raise_if_any()
    return cleaned


def _slug_taken(slug: str) -> ValidationFailed:
    errors = FieldErrors()
    errors.add("slug", "taken", f"{slug!r} is taken by another organizer.")
    return ValidationFailed("The slug is taken.", errors=errors.items)


def _no_organizer() -> NotFound:
    return NotFound("No organizer has this identifier.", resource="organizer")
