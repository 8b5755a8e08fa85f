"""What the events context needs from the outside."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from platform_core.events.fields import CustomField
from platform_core.events.model import (
    CatalogueFilter,
    Event,
    EventFilter,
    EventSession,
)

if TYPE_CHECKING:
    from platform_core.uow import UnitOfWork


class DuplicateSlug(Exception):
    """Another event already has this slug."""


class EventRepository(Protocol):
    async def add(self, event: Event) -> None:
        """Raises DuplicateSlug when the slug is taken."""
        ...

    async def get(self, event_id: UUID) -> Event | None: ...

    async def get_for_update(self, event_id: UUID) -> Event | None:
        """The event, its row held until the transaction ends.

        A concurrent writer asking for the same row waits for this
        transaction and then reads what it committed, so each write starts
        from the latest state and none undoes another.
        """
        ...

    async def get_by_slug(self, slug: str) -> Event | None: ...

    async def update(self, event: Event) -> None: ...

    async def delete(self, event_id: UUID) -> None:
        """Remove the event and its sessions."""
        ...

    async def slugs_like(self, base: str) -> set[str]:
        """Every slug equal to `base` or starting with `base-`."""
        ...

    async def list_for_organizer(
        self,
        organizer_id: UUID,
        criteria: EventFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Event], int]:
        """One organizer's events, soonest start first, and how many match."""
        ...

    async def catalogue(
        self, criteria: CatalogueFilter, now: datetime, *, offset: int, limit: int
    ) -> tuple[Sequence[Event], int]:
        """Published public events matching `criteria`, and how many match.

        Upcoming means not yet ended at `now`, unless `include_past`. Two
        statements whatever the page size: the page and the count.
        """
        ...

    async def count_active(self, organizer_id: UUID, now: datetime) -> int:
        """Events of the organizer that are not cancelled and not yet ended."""
        ...

    async def organizer_names(
        self, organizer_ids: Collection[UUID]
    ) -> Mapping[UUID, str]:
        """Each organizer's public name, in one statement: the organization name
        of the profile, or the account's full name before there is one."""
        ...


class EventSessionRepository(Protocol):
    async def add(self, session: EventSession) -> None: ...

    async def get(self, session_id: UUID) -> EventSession | None: ...

    async def update(self, session: EventSession) -> None: ...

    async def delete(self, session_id: UUID) -> None: ...

    async def list_for_event(self, event_id: UUID) -> Sequence[EventSession]:
        """Ordered by start, then title."""
        ...


class CalendarRenderer(Protocol):
    """Writes an event as an iCalendar file: one entry per session."""

    def render(
        self,
        event: Event,
        sessions: Sequence[EventSession],
        *,
        organizer_name: str,
        url: str | None,
        stamp: datetime,
    ) -> bytes: ...


class CustomFieldRepository(Protocol):
    async def add(self, field: CustomField) -> None: ...

    async def get(self, field_id: UUID) -> CustomField | None: ...

    async def update(self, field: CustomField) -> None:
        """Raises KeyError for an unknown field."""
        ...

    async def delete(self, field_id: UUID) -> None:
        """Raises KeyError for an unknown field."""
        ...

    async def list_for_event(
        self, event_id: UUID, *, include_archived: bool = False
    ) -> Sequence[CustomField]:
        """Ordered by `order`, then creation, then id."""
        ...


class RegistrationCounts(Protocol):
    """How many people an event holds; the registrations context implements it.

    Each question is asked inside the caller's unit of work, so the answer is
    read in the same transaction as the change it guards.
    """

    async def confirmed(self, uow: UnitOfWork, event_id: UUID) -> int:
        """Registrations holding a seat: confirmed, awaiting payment, or offered."""
        ...

    async def any(self, uow: UnitOfWork, event_id: UUID) -> bool:
        """True when the event has any registration, cancelled ones included."""
        ...

    async def active(self, uow: UnitOfWork, event_id: UUID) -> int:
        """Registrations not cancelled: seats, payment holds and the waitlist."""
        ...

    async def has_answers(self, uow: UnitOfWork, field_id: UUID) -> bool:
        """True when any registration answered this custom field."""
        ...


class NoRegistrations:
    """The count before the registrations context exists: nobody, anywhere."""

    async def confirmed(self, uow: UnitOfWork, event_id: UUID) -> int:
        return 0

    async def any(self, uow: UnitOfWork, event_id: UUID) -> bool:
        return False

    async def active(self, uow: UnitOfWork, event_id: UUID) -> int:
        return 0

    async def has_answers(self, uow: UnitOfWork, field_id: UUID) -> bool:
        return False


FollowUp = Callable[[], Awaitable[None]]
"""Work a hook leaves for once the caller's transaction committed."""


class RegistrantNotice(Protocol):
    """What an event's changes mean to its registrants; registrations implements it."""

    async def event_cancelled_in(self, uow: UnitOfWork, event: Event) -> Sequence[UUID]:
        """Queue the mails in the caller's transaction; their outbox ids."""
        ...

    async def capacity_changed_in(
        self, uow: UnitOfWork, before: Event, after: Event
    ) -> FollowUp:
        """Give seats the change added to the waitlist, in the caller's transaction.

        Called after `after` is written; the returned work (mails, checkouts)
        runs once the transaction committed.
        """
        ...
