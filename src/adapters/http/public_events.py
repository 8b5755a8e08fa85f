"""The public catalogue: listed events, an event's page and its calendar file."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery

from adapters.http.custom_fields import PublicCustomFieldResponse
from adapters.http.events import (
    credits,
    instant_query,
    local,
    search_query,
    utc,
    utc_or_none,
)
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.events.model import (
    CatalogueFilter,
    CatalogueOrder,
    Event,
    EventFormat,
    EventSession,
    PriceFilter,
)
from platform_core.events.service import CatalogueCard, OrganizerCard, PublicEvent
from platform_core.files.service import MediaFiles
from platform_core.shared.pagination import Page, PageRequest

CALENDAR_MEDIA_TYPE = "text/calendar"
"""Served with `; charset=utf-8`, which Litestar adds to every text type."""


class OrganizerCardResponse(msgspec.Struct):
    uuid: UUID
    name: str

    @classmethod
    def of(cls, card: OrganizerCard) -> OrganizerCardResponse:
        return cls(uuid=card.id, name=card.name)


class PublicEventCard(msgspec.Struct, kw_only=True):
    """An event as the public list shows it."""

    uuid: UUID
    slug: str
    title: str
    format: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    starts_at_local: datetime
    ends_at_local: datetime
    price: int
    currency: str | None
    featured_image: str | None
    organizer: OrganizerCardResponse

    @classmethod
    def of(cls, card: CatalogueCard, media: MediaFiles) -> PublicEventCard:
        event = card.event
        return cls(
            uuid=event.id,
            slug=event.slug,
            title=event.title,
            format=event.format.value,
            timezone=event.timezone,
            starts_at=utc(event.starts_at),
            ends_at=utc(event.ends_at),
            starts_at_local=local(event.starts_at, event.timezone),
            ends_at_local=local(event.ends_at, event.timezone),
            price=event.price,
            currency=event.currency,
            featured_image=media.url_for(event.featured_image),
            organizer=OrganizerCardResponse.of(card.organizer),
        )


class PublicEventListResponse(msgspec.Struct, kw_only=True):
    count: int
    page: int
    page_size: int
    results: list[PublicEventCard]

    @classmethod
    def of(
        cls, page: Page[CatalogueCard], media: MediaFiles
    ) -> PublicEventListResponse:
        return cls(
            count=page.total,
            page=page.request.page,
            page_size=page.request.page_size,
            results=[PublicEventCard.of(card, media) for card in page.items],
        )


class PublicSessionResponse(msgspec.Struct, kw_only=True):
    """A session without its meeting link, which is for registrants only."""

    uuid: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    starts_at_local: datetime
    ends_at_local: datetime

    @classmethod
    def of(cls, session: EventSession, zone: str) -> PublicSessionResponse:
        return cls(
            uuid=session.id,
            title=session.title,
            starts_at=utc(session.starts_at),
            ends_at=utc(session.ends_at),
            starts_at_local=local(session.starts_at, zone),
            ends_at_local=local(session.ends_at, zone),
        )


class PublicEventDetail(msgspec.Struct, kw_only=True):
    """An event's public page: what a visitor needs to decide and register."""

    uuid: UUID
    slug: str
    status: str
    title: str
    description: str
    format: str
    venue: str
    address: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    starts_at_local: datetime
    ends_at_local: datetime
    capacity: int | None
    seats_left: int | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    registration_open: bool
    price: int
    currency: str | None
    cpd_credits: Decimal
    certificate_enabled: bool
    min_attendance_percent: int
    waitlist_enabled: bool
    visibility: str
    featured_image: str | None
    organizer: OrganizerCardResponse
    sessions: list[PublicSessionResponse]
    custom_fields: list[PublicCustomFieldResponse]

    @classmethod
    def of(cls, public: PublicEvent, media: MediaFiles) -> PublicEventDetail:
        event: Event = public.event
        return cls(
            uuid=event.id,
            slug=event.slug,
            status=event.status.value,
            title=event.title,
            description=event.description,
            format=event.format.value,
            venue=event.venue,
            address=event.address,
            timezone=event.timezone,
            starts_at=utc(event.starts_at),
            ends_at=utc(event.ends_at),
            starts_at_local=local(event.starts_at, event.timezone),
            ends_at_local=local(event.ends_at, event.timezone),
            capacity=event.capacity,
            seats_left=public.seats_left,
            registration_opens_at=utc_or_none(event.registration_opens_at),
            registration_closes_at=utc_or_none(event.registration_closes_at),
            registration_open=public.registration_open,
            price=event.price,
            currency=event.currency,
            cpd_credits=credits(event.cpd_credits),
            certificate_enabled=event.certificate_enabled,
            min_attendance_percent=event.min_attendance_percent,
            waitlist_enabled=event.waitlist_enabled,
            visibility=event.visibility.value,
            featured_image=media.url_for(event.featured_image),
            organizer=OrganizerCardResponse.of(public.organizer),
            sessions=[
                PublicSessionResponse.of(s, event.timezone) for s in public.sessions
            ],
            custom_fields=[
                PublicCustomFieldResponse.of(f) for f in public.custom_fields
            ],
        )


class PublicEventController(Controller):
    path = "/api/v1/public/events"
    tags = ["public"]

    @get(
        "/",
        summary="Published public events, upcoming unless include_past",
        description=(
            "`starts_after`/`starts_before` are ISO 8601 instants with an offset; "
            "`price` is `free` or `paid`; `count` is the total over all pages."
        ),
        responses=problems(400),
    )
    async def list_public_events(
        self,
        platform: NamedDependency[Platform],
        search: FromQuery[str | None] = None,
        organizer: FromQuery[UUID | None] = None,
        starts_after: FromQuery[str | None] = None,
        starts_before: FromQuery[str | None] = None,
        format: FromQuery[EventFormat | None] = None,
        price: FromQuery[PriceFilter | None] = None,
        include_past: FromQuery[bool] = False,
        ordering: FromQuery[CatalogueOrder] = CatalogueOrder.STARTS_AT,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> PublicEventListResponse:
        criteria = CatalogueFilter(
            search=search_query(search),
            organizer_id=organizer,
            starts_after=instant_query("starts_after", starts_after),
            starts_before=instant_query("starts_before", starts_before),
            format=format,
            price=price,
            include_past=include_past,
            order=ordering,
        )
        found = await platform.events.browse_catalogue(
            criteria, PageRequest(page=page, page_size=page_size)
        )
        return PublicEventListResponse.of(found, platform.media)

    @get(
        "/{identifier:str}/",
        summary="A published event by uuid or slug, with sessions and seats left",
        description="Unlisted events are found here too; drafts never are.",
        responses=problems(404),
    )
    async def get_public_event(
        self, identifier: FromPath[str], platform: NamedDependency[Platform]
    ) -> PublicEventDetail:
        return PublicEventDetail.of(
            await platform.events.public_event(identifier), platform.media
        )

    @get(
        "/{identifier:str}/calendar.ics",
        summary="The event as an iCalendar file, one entry per session",
        media_type=CALENDAR_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=str,
                description="An iCalendar (RFC 5545) file",
                media_type="text/calendar",
                generate_examples=False,
            ),
            **problems(404, 503),
        },
    )
    async def get_calendar(
        self,
        identifier: FromPath[str],
        platform: NamedDependency[Platform],
    ) -> Response[bytes]:
        calendar = await platform.events.calendar_file(identifier)
        return Response(
            content=calendar.content,
            media_type=CALENDAR_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{calendar.filename}"'
            },
        )
