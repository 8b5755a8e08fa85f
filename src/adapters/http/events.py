"""Organizer endpoints: my events, their publication, cancellation and sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.identity import Body
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.events.model import (
    Event,
    EventFilter,
    EventFormat,
    EventSession,
    EventStatus,
    Visibility,
    check_instants,
)
from platform_core.events.service import EventInput, SessionInput
from platform_core.files.service import MediaFiles
from platform_core.identity.model import ClientInfo, Principal
from platform_core.shared.errors import FieldErrors
from platform_core.shared.pagination import Page, PageRequest

SEARCH_MAX = 200
CENT = Decimal("0.01")

Instant = Annotated[
    datetime,
    msgspec.Meta(
        tz=True,
        description="ISO 8601 with an offset, e.g. 2031-05-17T09:30:00+02:00.",
    ),
]
Credits = Annotated[
    Decimal,
    msgspec.Meta(
        description="CPD credit hours, at most two decimals; sent and returned "
        'as a decimal string such as "1.50" (a JSON number is accepted too).'
    ),
]
OfferHours = Annotated[
    int,
    msgspec.Meta(
        description="Hours a freed seat is offered to the next waitlisted "
        "registrant (1 to 168) before it passes on; null promotes them at once."
    ),
]
ReadOnly = Annotated[
    Any, msgspec.Meta(description="Read-only: sending it is refused (`read_only`).")
]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


def credits(value: Decimal) -> Decimal:
    """CPD credits with their two decimals, the same from every store."""
    return value.quantize(CENT)


def local(moment: datetime, zone: str) -> datetime:
    """The instant on the wall clock of the event's time zone."""
    return moment.astimezone(ZoneInfo(zone))


def instant_query(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 query parameter with an offset; a naive time is refused."""
    if value is None or not value.strip():
        return None
    # A `+` left unencoded in a query string arrives as a space.
    text = value.strip().replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    errors = FieldErrors()
    if moment is None:
        errors.add(name, "invalid", "Use ISO 8601, e.g. 2031-05-17T09:30:00+02:00.")
    elif moment.tzinfo is None or moment.utcoffset() is None:
        errors.add(
            name, "naive_time", "Give the time with an offset, such as +02:00 or Z."
        )
    else:
        check_instants(errors, **{name: moment})
    errors.raise_if_any("The query parameters are not valid.")
    return moment


def search_query(value: str | None) -> str | None:
    """A search term, trimmed; empty means no search."""
    if value is None or not value.strip():
        return None
    term = value.strip()
    errors = FieldErrors()
    if len(term) > SEARCH_MAX:
        errors.add("search", "too_long", f"At most {SEARCH_MAX} characters.")
    elif any(ord(char) < 32 or ord(char) == 127 for char in term):
        errors.add("search", "invalid", "A search cannot hold control characters.")
    errors.raise_if_any("The query parameters are not valid.")
    return term


class EventResponse(msgspec.Struct, kw_only=True):
    """One of my events; instants in UTC, with their local time in `timezone`."""

    uuid: UUID
    slug: str
    status: str
    is_published: bool
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
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    price: int
    currency: str | None
    cpd_credits: Decimal
    certificate_enabled: bool
    min_attendance_percent: int
    visibility: str
    waitlist_enabled: bool
    waitlist_offer_hours: int | None
    featured_image: str | None
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, event: Event, media: MediaFiles) -> EventResponse:
        """The event as its organizer sees it; the image as its served URL."""
        return cls(
            uuid=event.id,
            slug=event.slug,
            status=event.status.value,
            is_published=event.is_published,
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
            registration_opens_at=utc_or_none(event.registration_opens_at),
            registration_closes_at=utc_or_none(event.registration_closes_at),
            price=event.price,
            currency=event.currency,
            cpd_credits=credits(event.cpd_credits),
            certificate_enabled=event.certificate_enabled,
            min_attendance_percent=event.min_attendance_percent,
            visibility=event.visibility.value,
            waitlist_enabled=event.waitlist_enabled,
            waitlist_offer_hours=event.waitlist_offer_hours,
            featured_image=media.url_for(event.featured_image),
            created_at=utc(event.created_at),
            updated_at=utc_or_none(event.updated_at),
        )


class EventListResponse(msgspec.Struct, kw_only=True):
    count: int
    page: int
    page_size: int
    results: list[EventResponse]

    @classmethod
    def of(cls, page: Page[Event], media: MediaFiles) -> EventListResponse:
        return cls(
            count=page.total,
            page=page.request.page,
            page_size=page.request.page_size,
            results=[EventResponse.of(event, media) for event in page.items],
        )


class EventCreateRequest(Body):
    title: str
    timezone: str
    starts_at: Instant
    ends_at: Instant
    description: str = ""
    format: EventFormat = EventFormat.ONLINE
    venue: str = ""
    address: str = ""
    capacity: int | None = None
    registration_opens_at: Instant | None = None
    registration_closes_at: Instant | None = None
    price: int = 0
    currency: str | None = None
    cpd_credits: Credits = Decimal(0)
    certificate_enabled: bool = False
    min_attendance_percent: int = 0
    visibility: Visibility = Visibility.PUBLIC
    waitlist_enabled: bool = False
    waitlist_offer_hours: OfferHours | None = None


class EventUpdateRequest(Body):
    """Any subset of the editable fields; the fields of a response are refused."""

    title: str | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    starts_at: Instant | msgspec.UnsetType = msgspec.UNSET
    ends_at: Instant | msgspec.UnsetType = msgspec.UNSET
    description: str | msgspec.UnsetType = msgspec.UNSET
    format: EventFormat | msgspec.UnsetType = msgspec.UNSET
    venue: str | msgspec.UnsetType = msgspec.UNSET
    address: str | msgspec.UnsetType = msgspec.UNSET
    capacity: int | msgspec.UnsetType | None = msgspec.UNSET
    registration_opens_at: Instant | msgspec.UnsetType | None = msgspec.UNSET
    registration_closes_at: Instant | msgspec.UnsetType | None = msgspec.UNSET
    price: int | msgspec.UnsetType = msgspec.UNSET
    currency: str | msgspec.UnsetType | None = msgspec.UNSET
    cpd_credits: Credits | msgspec.UnsetType = msgspec.UNSET
    certificate_enabled: bool | msgspec.UnsetType = msgspec.UNSET
    min_attendance_percent: int | msgspec.UnsetType = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET
    waitlist_enabled: bool | msgspec.UnsetType = msgspec.UNSET
    waitlist_offer_hours: OfferHours | msgspec.UnsetType | None = msgspec.UNSET
    uuid: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    slug: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    status: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    is_published: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    featured_image: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    starts_at_local: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    ends_at_local: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    created_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    updated_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET


def given_fields(body: msgspec.Struct) -> dict[str, Any]:
    """The fields a request body actually carried."""
    return {
        name: value
        for name, value in msgspec.structs.asdict(body).items()
        if value is not msgspec.UNSET
    }


class PublishRequest(Body):
    published: bool


class MeetingResponse(msgspec.Struct):
    id: str | None
    url: str


class SessionResponse(msgspec.Struct, kw_only=True):
    uuid: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    meeting: MeetingResponse | None

    @classmethod
    def of(cls, session: EventSession) -> SessionResponse:
        return cls(
            uuid=session.id,
            title=session.title,
            starts_at=utc(session.starts_at),
            ends_at=utc(session.ends_at),
            meeting=(
                MeetingResponse(session.meeting_id, session.meeting_url)
                if session.meeting_url
                else None
            ),
        )


class SessionCreateRequest(Body):
    title: str
    starts_at: Instant
    ends_at: Instant


class SessionUpdateRequest(Body):
    title: str | msgspec.UnsetType = msgspec.UNSET
    starts_at: Instant | msgspec.UnsetType = msgspec.UNSET
    ends_at: Instant | msgspec.UnsetType = msgspec.UNSET
    uuid: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    meeting: ReadOnly | msgspec.UnsetType = msgspec.UNSET


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a draft event; uses one of the plan's events_per_period",
        description=(
            "Instants are ISO 8601 with an offset and come back in UTC, with "
            "`starts_at_local`/`ends_at_local` in the event's `timezone`. `price` "
            "is in minor units of `currency` (0 is free); `cpd_credits` is a "
            "decimal string. Without the organizer capability the answer is "
            "`capability_missing`; at the plan's limit, `quota_exceeded` with "
            "`limit` and `period_end`."
        ),
        responses=problems(400, 401, 403, 413),
    )
    async def create_event(
        self,
        data: JSONBody[EventCreateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> EventResponse:
        draft = EventInput(**msgspec.structs.asdict(data))
        event = await platform.events.create_event(principal, draft, client=client)
        return EventResponse.of(event, platform.media)

    @get(
        "/",
        summary="My events, soonest first, filtered and paginated",
        description=(
            "`starts_after` and `starts_before` are ISO 8601 instants with an "
            "offset; `search` looks in titles and descriptions."
        ),
        responses=problems(400, 401),
    )
    async def list_events(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        status: FromQuery[EventStatus | None] = None,
        starts_after: FromQuery[str | None] = None,
        starts_before: FromQuery[str | None] = None,
        search: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> EventListResponse:
        criteria = EventFilter(
            status=status,
            starts_after=instant_query("starts_after", starts_after),
            starts_before=instant_query("starts_before", starts_before),
            search=search_query(search),
        )
        found = await platform.events.list_events(
            principal, criteria, PageRequest(page=page, page_size=page_size)
        )
        return EventListResponse.of(found, platform.media)

    @get("/{uuid:uuid}/", summary="One of my events", responses=problems(401, 404))
    async def get_event(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> EventResponse:
        return EventResponse.of(
            await platform.events.get_event(principal, uuid), platform.media
        )

    @patch(
        "/{uuid:uuid}/",
        summary="Change any editable fields; the event must stay valid",
        description="A published event must stay complete and cannot be moved "
        "to end in the past (`ends_at`: `past`); sessions must stay inside the "
        "event (`sessions_outside` on the bound that would cut them off). An "
        "account whose plan no longer makes it an organizer gets 403 "
        "`capability_missing`: it may still cancel, unpublish or delete.",
        responses=problems(400, 401, 403, 404),
    )
    async def update_event(
        self,
        uuid: FromPath[UUID],
        data: JSONBody[EventUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> EventResponse:
        event = await platform.events.update_event(
            principal, uuid, given_fields(data), client=client
        )
        return EventResponse.of(event, platform.media)

    @delete(
        "/{uuid:uuid}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete an event nobody registered for",
        description="An event with registrations is refused "
        "(`event_has_registrations`): cancel it instead.",
        responses=problems(401, 404, 409),
    )
    async def delete_event(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> None:
        await platform.events.delete_event(principal, uuid, client=client)

    @post(
        "/{uuid:uuid}/publish/",
        status_code=HTTP_200_OK,
        summary="Publish the event, or take it back to draft",
        description="Publishing an incomplete event, or one that has ended, is "
        "refused with the fields at fault in `errors`; publishing needs a plan "
        "that still makes the account an organizer (403 `capability_missing`). "
        "Taking an event back to draft while people are registered is refused "
        "(409 `event_has_registrations`): cancel it so they are told, or close "
        "registration.",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def publish_event(
        self,
        uuid: FromPath[UUID],
        data: JSONBody[PublishRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> EventResponse:
        event = await platform.events.set_published(
            principal, uuid, data.published, client=client
        )
        return EventResponse.of(event, platform.media)

    @post(
        "/{uuid:uuid}/cancel/",
        status_code=HTTP_200_OK,
        summary="Cancel the event; its status becomes cancelled",
        responses=problems(401, 404),
    )
    async def cancel_event(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> EventResponse:
        event = await platform.events.cancel_event(principal, uuid, client=client)
        return EventResponse.of(event, platform.media)


class EventSessionController(Controller):
    path = "/api/v1/events/{event_uuid:uuid}/sessions"
    tags = ["events"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/", summary="The sessions of my event, by start", responses=problems(401, 404)
    )
    async def list_sessions(
        self,
        event_uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> list[SessionResponse]:
        sessions = await platform.events.list_sessions(principal, event_uuid)
        return [SessionResponse.of(session) for session in sessions]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Add a session within the event's start and end",
        responses=problems(400, 401, 403, 404),
    )
    async def add_session(
        self,
        event_uuid: FromPath[UUID],
        data: JSONBody[SessionCreateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> SessionResponse:
        session = await platform.events.add_session(
            principal,
            event_uuid,
            SessionInput(data.title, data.starts_at, data.ends_at),
        )
        return SessionResponse.of(session)

    @get("/{uuid:uuid}/", summary="One session", responses=problems(401, 404))
    async def get_session(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> SessionResponse:
        session = await platform.events.get_session(principal, event_uuid, uuid)
        return SessionResponse.of(session)

    @patch(
        "/{uuid:uuid}/",
        summary="Change a session's title or times",
        responses=problems(400, 401, 403, 404),
    )
    async def update_session(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        data: JSONBody[SessionUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> SessionResponse:
        session = await platform.events.update_session(
            principal, event_uuid, uuid, given_fields(data)
        )
        return SessionResponse.of(session)

    @delete(
        "/{uuid:uuid}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a session",
        responses=problems(401, 404),
    )
    async def delete_session(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> None:
        await platform.events.delete_session(principal, event_uuid, uuid)
