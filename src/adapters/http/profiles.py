"""Organizer profile endpoints: my organizer profile, its logo, and public pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import utc_or_none
from adapters.http.identity import Body
from adapters.http.openapi import problems
from adapters.http.uploads import UPLOAD_MAX_BYTES, LogoUpload, read_upload
from platform_core import Platform
from platform_core.events.model import Event
from platform_core.files.service import MediaFiles
from platform_core.identity.model import ClientInfo, Principal
from platform_core.profiles.model import SOCIAL_LINKS_MAX, OrganizerProfile
from platform_core.profiles.service import PublicOrganizer

ReadOnly = Annotated[
    Any, msgspec.Meta(description="Read-only: sending it is refused (`read_only`).")
]
SocialLinks = Annotated[
    dict[str, str],
    msgspec.Meta(
        description=f"Up to {SOCIAL_LINKS_MAX} links by name, each an https:// URL, "
        'e.g. {"linkedin": "https://www.linkedin.com/company/example"}.'
    ),
]

TimeZone = Annotated[
    str,
    msgspec.Meta(
        description="An IANA time zone such as Europe/Paris (UTC by default); "
        "a promo code's date-only validity bounds are days in this zone."
    ),
]


class OrganizerProfileResponse(msgspec.Struct, kw_only=True):
    """An organizer profile; `logo` is the URL of the served image, or null."""

    uuid: UUID
    organization_name: str
    slug: str
    bio: str
    website: str | None
    contact_email: str | None
    logo: str | None
    social_links: dict[str, str]
    timezone: str

    @classmethod
    def fields_of(cls, profile: OrganizerProfile, media: MediaFiles) -> dict[str, Any]:
        return {
            "uuid": profile.user_id,
            "organization_name": profile.organization_name,
            "slug": profile.slug,
            "bio": profile.bio,
            "website": profile.website,
            "contact_email": profile.contact_email,
            "logo": media.url_for(profile.logo),
            "social_links": dict(sorted(profile.social_links.items())),
            "timezone": profile.timezone,
        }


class MyOrganizerProfileResponse(OrganizerProfileResponse, kw_only=True):
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(
        cls, profile: OrganizerProfile, media: MediaFiles
    ) -> MyOrganizerProfileResponse:
        return cls(
            **cls.fields_of(profile, media),
            created_at=profile.created_at.astimezone(UTC),
            updated_at=utc_or_none(profile.updated_at),
        )


class OrganizerEventResponse(msgspec.Struct, kw_only=True):
    """One upcoming event on an organizer's public page; instants in UTC."""

    uuid: UUID
    slug: str
    title: str
    format: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    price: int
    currency: str | None
    featured_image: str | None

    @classmethod
    def of(cls, event: Event, media: MediaFiles) -> OrganizerEventResponse:
        return cls(
            uuid=event.id,
            slug=event.slug,
            title=event.title,
            format=event.format.value,
            timezone=event.timezone,
            starts_at=event.starts_at.astimezone(UTC),
            ends_at=event.ends_at.astimezone(UTC),
            price=event.price,
            currency=event.currency,
            featured_image=media.url_for(event.featured_image),
        )


class OrganizerEventsResponse(msgspec.Struct, kw_only=True):
    """The soonest upcoming public events (at most 50) and how many there are."""

    count: int
    results: list[OrganizerEventResponse]


class PublicOrganizerResponse(OrganizerProfileResponse, kw_only=True):
    """An organizer's public page: the profile and their upcoming public events."""

    events: OrganizerEventsResponse

    @classmethod
    def of(cls, page: PublicOrganizer, media: MediaFiles) -> PublicOrganizerResponse:
        return cls(
            **cls.fields_of(page.profile, media),
            events=OrganizerEventsResponse(
                count=page.total_events,
                results=[OrganizerEventResponse.of(e, media) for e in page.events],
            ),
        )


class OrganizerProfileUpdateRequest(Body):
    organization_name: str | msgspec.UnsetType = msgspec.UNSET
    slug: str | msgspec.UnsetType = msgspec.UNSET
    bio: str | msgspec.UnsetType = msgspec.UNSET
    website: str | msgspec.UnsetType | None = msgspec.UNSET
    contact_email: str | msgspec.UnsetType | None = msgspec.UNSET
    social_links: SocialLinks | msgspec.UnsetType = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    logo: ReadOnly | msgspec.UnsetType = msgspec.UNSET


class OrganizerProfileController(Controller):
    path = "/api/v1/users/me/organizer-profile"
    tags = ["organizers"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/",
        summary="My organizer profile",
        description="The first read creates it from my name, with a free slug. "
        "Only organizers have one (`capability_missing` otherwise).",
        responses=problems(401, 403),
    )
    async def show(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> MyOrganizerProfileResponse:
        profile = await platform.profiles.organizer_profile(principal)
        return MyOrganizerProfileResponse.of(profile, platform.media)

    @patch(
        "/",
        summary="Change my organizer profile",
        description="Send only the fields to change; `website` and "
        "`contact_email` take null to clear; `timezone` is an IANA zone. A "
        "slug another organizer has is refused (400, `taken`); the logo has its "
        "own upload.",
        responses=problems(400, 401, 403),
    )
    async def update(
        self,
        data: JSONBody[OrganizerProfileUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> MyOrganizerProfileResponse:
        changes = {
            name: value
            for name in data.__struct_fields__
            if (value := getattr(data, name)) is not msgspec.UNSET
        }
        profile = await platform.profiles.update_organizer_profile(
            principal, changes, client
        )
        return MyOrganizerProfileResponse.of(profile, platform.media)

    @post(
        "/logo/",
        status_code=HTTP_200_OK,
        summary="Upload my logo (multipart field `logo`)",
        description="A JPEG, PNG or WebP image of at most 5 MiB and 6000 pixels "
        "a side, recognised by its content. It is decoded in full and saved "
        "again without its metadata; an animated image keeps its first frame. "
        "A refused file leaves the old logo in place.",
        request_max_body_size=UPLOAD_MAX_BYTES,
        responses=problems(400, 401, 403, 413),
    )
    async def upload_logo(
        self,
        data: LogoUpload,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> MyOrganizerProfileResponse:
        content = await read_upload(data.logo)
        profile = await platform.profiles.set_logo(principal, content, client)
        return MyOrganizerProfileResponse.of(profile, platform.media)


class OrganizerController(Controller):
    path = "/api/v1/organizers"
    tags = ["organizers"]

    @get(
        "/{uuid:uuid}/",
        summary="An organizer's public page",
        description="The public profile and the soonest upcoming published "
        "public events (at most 50, with their count). Anyone who is not an "
        "organizer is not found.",
        cache_control=CacheControlHeader(max_age=60, public=True),
        responses=problems(404),
    )
    async def show(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
    ) -> PublicOrganizerResponse:
        page = await platform.profiles.public_organizer(str(uuid))
        return PublicOrganizerResponse.of(page, platform.media)
