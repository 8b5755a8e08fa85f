"""Use cases of the events context: an organizer's events and the public catalogue."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Mails
from platform_core.billing.model import Capability, Limit
from platform_core.events.fields import CustomField
from platform_core.events.model import (
    CatalogueFilter,
    Event,
    EventFilter,
    EventFormat,
    EventSession,
    EventStatus,
    Visibility,
    slugify,
)
from platform_core.events.ports import (
    CalendarRenderer,
    DuplicateSlug,
    RegistrantNotice,
    RegistrationCounts,
)
from platform_core.files.service import MediaFiles
from platform_core.identity.model import ClientInfo, Principal
from platform_core.outbox.ports import MessageDispatcher
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    Conflict,
    FieldErrors,
    NotConfigured,
    NotFound,
    refuse_read_only,
)
from platform_core.shared.pagination import Page, PageRequest
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

_SLUG_ATTEMPTS = 3
_SLUG_SHAPE = re.compile(r"^[a-z0-9-]{1,80}$")

EDITABLE = frozenset(
    {
        "title",
        "description",
        "format",
        "venue",
        "address",
        "timezone",
        "starts_at",
        "ends_at",
        "capacity",
        "registration_opens_at",
        "registration_closes_at",
        "price",
        "currency",
        "cpd_credits",
        "certificate_enabled",
        "min_attendance_percent",
        "visibility",
        "waitlist_enabled",
        "waitlist_offer_hours",
    }
)
"""Event fields an organizer sets directly; status moves through its own use cases."""


@dataclass(frozen=True, slots=True)
class EventInput:
    """What an organizer gives to create an event."""

    title: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    format: EventFormat = EventFormat.ONLINE
    venue: str = ""
    address: str = ""
    capacity: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    price: int = 0
    currency: str | None = None
    cpd_credits: Decimal = Decimal(0)
    certificate_enabled: bool = False
    min_attendance_percent: int = 0
    visibility: Visibility = Visibility.PUBLIC
    waitlist_enabled: bool = False
    waitlist_offer_hours: int | None = None


@dataclass(frozen=True, slots=True)
class SessionInput:
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class OrganizerCard:
    """What the public may know about an event's organizer."""

    id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class PublicEvent:
    """An event as the catalogue shows it to anyone."""

    event: Event
    sessions: Sequence[EventSession]
    organizer: OrganizerCard
    seats_left: int | None
    registration_open: bool
    """Whether a registration is taken now: a seat, or a waitlist place."""
    custom_fields: Sequence[CustomField] = ()
    """The active registration fields, in their order."""


@dataclass(frozen=True, slots=True)
class CatalogueCard:
    """One event of the public list, with its organizer's card."""

    event: Event
    organizer: OrganizerCard


@dataclass(frozen=True, slots=True)
class CalendarFile:
    """An event's iCalendar file and the name to save it under."""

    filename: str
    content: bytes


async def own_event(uow: UnitOfWork, actor: Principal, event_id: UUID) -> Event:
    """The caller's event; anyone else's is not found, never forbidden."""
    event = await uow.events.get(event_id)
    if event is None or event.organizer_id != actor.user_id:
        raise NotFound("You have no event with this id.", resource="event")
    return event


async def hold_own_event(
    uow: UnitOfWork, actor: Principal, event_id: UUID, *, seats: bool = False
) -> Event:
    """The caller's event, read for a write: its row is held until the transaction ends.

    Concurrent writes of one event take turns, and each checks and changes
    what the one before it committed. With `seats` the event's seat counter
    is held first, as every seat change holds it: a transaction that holds
    both always takes the seats, then the event row, so none waits in a
    circle, and no seat is taken or freed while the event is checked.
    Anyone else's event is not found.
    """
    if seats:
        await own_event(uow, actor, event_id)
        await uow.event_seats.lock(event_id)
    event = await uow.events.get_for_update(event_id)
    if event is None or event.organizer_id != actor.user_id:
        raise NotFound("You have no event with this id.", resource="event")
    return event


class EventService:
    """An organizer's events and sessions, and the public catalogue."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        entitlements: Entitlements,
        registrations: RegistrationCounts,
        dispatcher: MessageDispatcher,
        calendar: CalendarRenderer | None = None,
        media: MediaFiles | None = None,
        frontend_url: str | None = None,
        registrants: RegistrantNotice | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._entitlements = entitlements
        self._registrations = registrations
        self._dispatcher = dispatcher
        self._calendar = calendar
        self._media = media
        self._frontend_url = frontend_url
        self._registrants = registrants

    # -- an organizer's events ---------------------------------------------

    async def create_event(
        self, actor: Principal, draft: EventInput, client: ClientInfo | None = None
    ) -> Event:
        """Create a draft with a unique slug, using one `events_per_period`.

        The quota is consumed in the same transaction, so concurrent creations
        at the limit never go past it.
        """
        now = self._clock.now()
        event = Event(
            organizer_id=actor.user_id,
            slug="",
            created_at=now,
            **{f.name: getattr(draft, f.name) for f in fields(EventInput)},
        )
        event.check()
        for attempt in range(1, _SLUG_ATTEMPTS + 1):
            mails = Mails()
            try:
                async with self._uow() as uow:
                    await self._entitlements.require_in(
                        uow, actor.user_id, Capability.ORGANIZER, mails
                    )
                    await self._entitlements.consume_in(
                        uow, actor.user_id, Limit.EVENTS_PER_PERIOD, mails
                    )
                    event.slug = await self._free_slug(uow, event.title, attempt)
                    await uow.events.add(event)
                    await self._audit(uow, "events.event.created", actor, event, client)
                    await uow.commit()
            except DuplicateSlug:
                if attempt == _SLUG_ATTEMPTS:
                    raise
                continue
            await self._dispatcher.dispatch(mails.ids)
            log.info("events.event.created", event_id=str(event.id), slug=event.slug)
            return event
        raise AssertionError("unreachable")

    async def list_events(
        self, actor: Principal, criteria: EventFilter, page: PageRequest
    ) -> Page[Event]:
        async with self._uow() as uow:
            items, total = await uow.events.list_for_organizer(
                actor.user_id, criteria, offset=page.offset, limit=page.page_size
            )
        return Page(items=items, total=total, request=page)

    async def get_event(self, actor: Principal, event_id: UUID) -> Event:
        async with self._uow() as uow:
            return await self._own(uow, actor, event_id)

    async def update_event(
        self,
        actor: Principal,
        event_id: UUID,
        changes: Mapping[str, Any],
        client: ClientInfo | None = None,
    ) -> Event:
        """Change any editable field; the whole event must still be valid."""
        refuse_read_only(changes, EDITABLE)
        mails = Mails()
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id, seats=True)
            refuse_if_cancelled(event)
            await self._still_organizer(uow, actor, mails)
            changed = replace(event, **changes)
            changed.check()
            if changed.is_published:
                missing = changed.missing_for_publication()
                moved_end = changed.ends_at != event.ends_at
                if moved_end and changed.ends_at <= self._clock.now():
                    missing.add(
                        "ends_at",
                        "past",
                        "A published event cannot be moved to end in the past.",
                    )
                missing.raise_if_any(
                    "A published event must stay complete; unpublish it first."
                )
            if changed.capacity is not None:
                confirmed = await self._registrations.confirmed(uow, event.id)
                if changed.capacity < confirmed:
                    errors = FieldErrors()
                    errors.add(
                        "capacity",
                        "below_registrations",
                        f"{confirmed} seats are taken (confirmed, awaiting "
                        "payment or offered to the waitlist).",
                    )
                    errors.raise_if_any("The event is not valid.")
            sessions = await uow.event_sessions.list_for_event(event.id)
            errors = FieldErrors()
            for field, outside in (
                ("starts_at", [s for s in sessions if s.starts_at < changed.starts_at]),
                ("ends_at", [s for s in sessions if s.ends_at > changed.ends_at]),
            ):
                if outside:
                    errors.add(
                        field,
                        "sessions_outside",
                        f"{len(outside)} session(s) would fall outside the event; "
                        "move them first.",
                    )
            errors.raise_if_any("The event is not valid.")
            changed.updated_at = self._clock.now()
            await uow.events.update(changed)
            await self._audit(
                uow,
                "events.event.updated",
                actor,
                changed,
                client,
                fields=sorted(changes),
            )
            after_commit = (
                None
                if self._registrants is None
                else await self._registrants.capacity_changed_in(uow, event, changed)
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        if after_commit is not None:
            await after_commit()
        return changed

    async def delete_event(
        self, actor: Principal, event_id: UUID, client: ClientInfo | None = None
    ) -> None:
        """Delete an event nobody registered for; otherwise cancel it instead."""
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id, seats=True)
            if await self._registrations.any(uow, event.id):
                raise Conflict(
                    "The event has registrations; cancel it instead, so its "
                    "registrants are told.",
                    code="event_has_registrations",
                )
            await uow.events.delete(event.id)
            await self._audit(uow, "events.event.deleted", actor, event, client)
            await uow.commit()
        if self._media is not None:
            await self._media.discard(event.featured_image)

    async def cancel_event(
        self, actor: Principal, event_id: UUID, client: ClientInfo | None = None
    ) -> Event:
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id, seats=True)
            if event.status is EventStatus.CANCELLED:
                return event
            event.status = EventStatus.CANCELLED
            event.cancelled_at = event.updated_at = self._clock.now()
            await uow.events.update(event)
            await self._audit(uow, "events.event.cancelled", actor, event, client)
            notices: Sequence[UUID] = ()
            if self._registrants is not None:
                notices = await self._registrants.event_cancelled_in(uow, event)
            await uow.commit()
        await self._dispatcher.dispatch(notices)
        return event

    async def set_published(
        self,
        actor: Principal,
        event_id: UUID,
        published: bool,
        client: ClientInfo | None = None,
    ) -> Event:
        """Publish an event complete enough to be listed, or take it back to draft."""
        mails = Mails()
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id)
            if published == event.is_published:
                return event
            if published:
                await self._still_organizer(uow, actor, mails)
                missing = event.missing_for_publication()
                if event.ends_at <= self._clock.now():
                    missing.add(
                        "ends_at",
                        "past",
                        "An event that has ended cannot be published.",
                    )
                missing.raise_if_any("The event is not ready to publish.")
                event.status = EventStatus.PUBLISHED
                event.published_at = self._clock.now()
            else:
                if event.status is EventStatus.CANCELLED:
                    return event
                registered = await self._registrations.active(uow, event.id)
                if registered:
                    who = (
                        "1 person is" if registered == 1 else f"{registered} people are"
                    )
                    raise Conflict(
                        f"{who} registered, and a draft's page is hidden from "
                        "them too; close registration with "
                        "registration_closes_at, or cancel the event so they "
                        "are told.",
                        code="event_has_registrations",
                        registrations=registered,
                    )
                event.status = EventStatus.DRAFT
                event.published_at = None
            event.updated_at = self._clock.now()
            await uow.events.update(event)
            await self._audit(
                uow,
                "events.event.published" if published else "events.event.unpublished",
                actor,
                event,
                client,
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return event

    # -- sessions ----------------------------------------------------------

    async def list_sessions(
        self, actor: Principal, event_id: UUID
    ) -> Sequence[EventSession]:
        async with self._uow() as uow:
            await self._own(uow, actor, event_id)
            return await uow.event_sessions.list_for_event(event_id)

    async def add_session(
        self, actor: Principal, event_id: UUID, data: SessionInput
    ) -> EventSession:
        mails = Mails()
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id)
            refuse_if_cancelled(event)
            await self._still_organizer(uow, actor, mails)
            session = EventSession(
                event_id=event.id,
                title=data.title,
                starts_at=data.starts_at,
                ends_at=data.ends_at,
                created_at=self._clock.now(),
            )
            session.check(event)
            await uow.event_sessions.add(session)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return session

    async def get_session(
        self, actor: Principal, event_id: UUID, session_id: UUID
    ) -> EventSession:
        async with self._uow() as uow:
            _, session = await self._own_session(uow, actor, event_id, session_id)
        return session

    async def update_session(
        self,
        actor: Principal,
        event_id: UUID,
        session_id: UUID,
        changes: Mapping[str, Any],
    ) -> EventSession:
        refuse_read_only(changes, {"title", "starts_at", "ends_at"})
        mails = Mails()
        async with self._uow() as uow:
            event, session = await self._own_session(
                uow, actor, event_id, session_id, hold=True
            )
            refuse_if_cancelled(event)
            await self._still_organizer(uow, actor, mails)
            changed = replace(session, **changes, updated_at=self._clock.now())
            changed.check(event)
            await uow.event_sessions.update(changed)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return changed

    async def delete_session(
        self, actor: Principal, event_id: UUID, session_id: UUID
    ) -> None:
        async with self._uow() as uow:
            _, session = await self._own_session(
                uow, actor, event_id, session_id, hold=True
            )
            await uow.event_sessions.delete(session.id)
            await uow.commit()

    async def _still_organizer(
        self, uow: UnitOfWork, actor: Principal, mails: Mails
    ) -> None:
        """Refuse `capability_missing` once the caller's plan no longer makes them
        an organizer: what they have stays theirs to read, unpublish, cancel or
        delete, but not to change, publish or extend."""
        await self._entitlements.require_in(
            uow, actor.user_id, Capability.ORGANIZER, mails
        )

    # -- the public catalogue ----------------------------------------------

    async def catalogue(
        self, criteria: CatalogueFilter, page: PageRequest
    ) -> Page[Event]:
        """Published public events; upcoming only unless asked otherwise."""
        async with self._uow() as uow:
            items, total = await uow.events.catalogue(
                criteria, self._clock.now(), offset=page.offset, limit=page.page_size
            )
        return Page(items=items, total=total, request=page)

    async def browse_catalogue(
        self, criteria: CatalogueFilter, page: PageRequest
    ) -> Page[CatalogueCard]:
        """The catalogue with each organizer's card: three statements per page."""
        async with self._uow() as uow:
            items, total = await uow.events.catalogue(
                criteria, self._clock.now(), offset=page.offset, limit=page.page_size
            )
            names = await uow.events.organizer_names({e.organizer_id for e in items})
        cards = [
            CatalogueCard(
                event,
                OrganizerCard(event.organizer_id, names.get(event.organizer_id, "")),
            )
            for event in items
        ]
        return Page(items=cards, total=total, request=page)

    async def public_event(self, identifier: str) -> PublicEvent:
        """A published event by uuid or slug; unlisted ones too, drafts never."""
        async with self._uow() as uow:
            event = await self._by_identifier(uow, identifier)
            if event is None or event.published_at is None:
                raise NotFound(
                    "No published event has this identifier.", resource="event"
                )
            sessions = await uow.event_sessions.list_for_event(event.id)
            names = await uow.events.organizer_names([event.organizer_id])
            custom_fields = await uow.custom_fields.list_for_event(event.id)
            confirmed = await self._registrations.confirmed(uow, event.id)
        seats_left = (
            None if event.capacity is None else max(0, event.capacity - confirmed)
        )
        return PublicEvent(
            event=event,
            sessions=sessions,
            organizer=OrganizerCard(
                id=event.organizer_id, name=names.get(event.organizer_id, "")
            ),
            seats_left=seats_left,
            registration_open=event.registration_open(self._clock.now())
            and (seats_left != 0 or event.waitlist_enabled),
            custom_fields=custom_fields,
        )

    async def calendar_file(self, identifier: str) -> CalendarFile:
        """The iCalendar file of a published (or cancelled) event."""
        if self._calendar is None:
            raise NotConfigured(
                "No calendar renderer is configured.", code="calendar_not_configured"
            )
        public = await self.public_event(identifier)
        content = self._calendar.render(
            public.event,
            public.sessions,
            organizer_name=public.organizer.name,
            url=self.page_url(public.event),
            stamp=self._clock.now(),
        )
        return CalendarFile(filename=f"{public.event.slug}.ics", content=content)

    def page_url(self, event: Event) -> str | None:
        """The event's page on the frontend, where people read and register."""
        if self._frontend_url is None:
            return None
        return f"{self._frontend_url.rstrip('/')}/events/{event.slug}"

    # -- helpers -----------------------------------------------------------

    async def _own(self, uow: UnitOfWork, actor: Principal, event_id: UUID) -> Event:
        return await own_event(uow, actor, event_id)

    async def _own_session(
        self,
        uow: UnitOfWork,
        actor: Principal,
        event_id: UUID,
        session_id: UUID,
        *,
        hold: bool = False,
    ) -> tuple[Event, EventSession]:
        event = await (
            hold_own_event(uow, actor, event_id)
            if hold
            else self._own(uow, actor, event_id)
        )
        session = await uow.event_sessions.get(session_id)
        if session is None or session.event_id != event.id:
            raise NotFound("The event has no session with this id.", resource="session")
        return event, session

    @staticmethod
    async def _by_identifier(uow: UnitOfWork, identifier: str) -> Event | None:
        try:
            event_id = UUID(identifier)
        except ValueError:
            slug = identifier.lower()
            if not _SLUG_SHAPE.match(slug):
                return None
            return await uow.events.get_by_slug(slug)
        return await uow.events.get(event_id)

    @staticmethod
    async def _free_slug(uow: UnitOfWork, title: str, attempt: int) -> str:
        base = slugify(title)
        if attempt > 1:
            return f"{base}-{secrets.token_hex(3)}"
        taken = await uow.events.slugs_like(base)
        if base not in taken:
            return base
        number = 2
        while f"{base}-{number}" in taken:
            number += 1
        return f"{base}-{number}"

    async def _audit(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Principal,
        event: Event,
        client: ClientInfo | None,
        **details: Any,
    ) -> None:
        await write_audit(
            uow.audit,
            action,
            at=self._clock.now(),
            actor_id=actor.user_id,
            target_type="event",
            target_id=event.id,
            client=client,
            **details,
        )


def refuse_if_cancelled(event: Event) -> None:
    """A cancelled event can no longer change: not its details, sessions or image."""
    if event.status is EventStatus.CANCELLED:
        raise Conflict(
            "The event is cancelled and can no longer be changed.",
            code="event_cancelled",
        )


class ActiveEvents:
    """The billing context's ActiveWork: events not cancelled and not yet over."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def count(self, account_id: UUID) -> Mapping[str, int]:
        async with self._uow() as uow:
            active = await uow.events.count_active(account_id, self._clock.now())
        return {"events": active}
