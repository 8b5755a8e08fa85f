"""In-memory registrations and seat counters; the store's lock makes them atomic."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationStatus,
)
from platform_core.registrations.ports import DuplicateRegistration
from platform_core.shared.errors import NotFound

if TYPE_CHECKING:
    from adapters.memory.store import _Tables


@dataclass(slots=True)
class SeatCounter:
    taken: int = 0
    arrivals: int = 0


def _active(registration: Registration) -> bool:
    return registration.status is not RegistrationStatus.CANCELLED


def _mentions(registration: Registration, term: str) -> bool:
    needle = term.casefold()
    return any(
        needle in text.casefold()
        for text in (
            registration.email,
            registration.first_name,
            registration.last_name,
            f"{registration.first_name} {registration.last_name}",
        )
    )


class MemoryEventSeatRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def _counter(self, event_id: UUID) -> SeatCounter:
        if event_id not in self._t.events:
            raise NotFound("No event has this id.", resource="event")
        return self._t.event_seats.setdefault(event_id, SeatCounter())

    async def lock(self, event_id: UUID) -> None:
        self._counter(event_id)

    async def next_arrival(self, event_id: UUID) -> int:
        counter = self._counter(event_id)
        counter.arrivals += 1
        return counter.arrivals

    async def take(self, event_id: UUID, *, ignore_capacity: bool = False) -> bool:
        counter = self._counter(event_id)
        event = self._t.events.get(event_id)
        capacity = event.capacity if event is not None else None
        if not ignore_capacity and capacity is not None and counter.taken >= capacity:
            return False
        counter.taken += 1
        return True

    async def release(self, event_id: UUID) -> bool:
        counter = self._counter(event_id)
        if counter.taken <= 0:
            return False
        counter.taken -= 1
        return True

    async def taken(self, event_id: UUID) -> int:
        counter = self._t.event_seats.get(event_id)
        return counter.taken if counter else 0


class MemoryRegistrationRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    def _rows(self) -> list[Registration]:
        return list(self._t.registrations.values())

    async def add(self, registration: Registration) -> None:
        self._guard_duplicate(registration)
        self._t.registrations[registration.id] = copy.deepcopy(registration)

    async def get(self, registration_id: UUID) -> Registration | None:
        found = self._t.registrations.get(registration_id)
        return copy.deepcopy(found) if found else None

    async def update(self, registration: Registration) -> None:
        if registration.id not in self._t.registrations:
            raise KeyError(registration.id)
        self._guard_duplicate(registration)
        self._t.registrations[registration.id] = copy.deepcopy(registration)

    async def change_status(
        self,
        registration_id: UUID,
        expected: RegistrationStatus,
        registration: Registration,
    ) -> bool:
        stored = self._t.registrations.get(registration_id)
        if stored is None or stored.status is not expected:
            return False
        self._guard_duplicate(registration)
        self._t.registrations[registration_id] = copy.deepcopy(registration)
        return True

    async def active_for_email(
        self, event_id: UUID, email_key: str
    ) -> Registration | None:
        for registration in self._rows():
            if (
                registration.event_id == event_id
                and registration.email_key == email_key
                and _active(registration)
            ):
                return copy.deepcopy(registration)
        return None

    async def list_for_event(
        self,
        event_id: UUID,
        criteria: RegistrationFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Registration], int]:
        found = [
            copy.deepcopy(r)
            for r in self._rows()
            if r.event_id == event_id
            and (criteria.status is None or r.status is criteria.status)
            and (not criteria.search or _mentions(r, criteria.search))
        ]
        found.sort(key=lambda r: (r.arrival, r.id))
        return found[offset : offset + limit], len(found)

    async def list_for_person(
        self,
        user_id: UUID,
        email_key: str | None,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Registration], int]:
        found = [
            copy.deepcopy(r)
            for r in self._rows()
            if r.user_id == user_id
            or (email_key is not None and r.email_key == email_key)
        ]
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return found[offset : offset + limit], len(found)

    async def waitlist(self, event_id: UUID) -> Sequence[Registration]:
        found = [
            copy.deepcopy(r)
            for r in self._rows()
            if r.event_id == event_id and r.status is RegistrationStatus.WAITLISTED
        ]
        return sorted(found, key=lambda r: (r.waitlist_seq or 0, r.id))

    async def first_waiting(self, event_id: UUID) -> Registration | None:
        waiting = [
            r for r in await self.waitlist(event_id) if r.offer_expires_at is None
        ]
        return waiting[0] if waiting else None

    async def waitlist_rank(self, registration: Registration) -> int | None:
        stored = self._t.registrations.get(registration.id)
        if (
            stored is None
            or stored.status is not RegistrationStatus.WAITLISTED
            or stored.waitlist_seq is None
        ):
            return None
        seq = stored.waitlist_seq
        return sum(
            1
            for r in self._rows()
            if r.event_id == stored.event_id
            and r.status is RegistrationStatus.WAITLISTED
            and r.waitlist_seq is not None
            and r.waitlist_seq <= seq
        )

    async def holds_expired(self, now: datetime, limit: int) -> Sequence[Registration]:
        expired: list[tuple[datetime, Registration]] = []
        for r in self._rows():
            if (
                r.status is RegistrationStatus.PENDING_PAYMENT
                and r.hold_expires_at is not None
                and r.hold_expires_at < now
            ):
                expired.append((r.hold_expires_at, r))
            elif (
                r.status is RegistrationStatus.WAITLISTED
                and r.offer_expires_at is not None
                and r.offer_expires_at < now
            ):
                expired.append((r.offer_expires_at, r))
        expired.sort(key=lambda pair: (pair[0], pair[1].id))
        return [copy.deepcopy(r) for _, r in expired[:limit]]

    async def count_holding_seats(self, event_id: UUID) -> int:
        return sum(1 for r in self._rows() if r.event_id == event_id and r.holds_seat)

    async def count_active(self, event_id: UUID) -> int:
        return sum(
            1
            for r in self._rows()
            if r.event_id == event_id and r.status is not RegistrationStatus.CANCELLED
        )

    async def count_confirmed(self, event_id: UUID) -> int:
        return sum(
            1
            for r in self._rows()
            if r.event_id == event_id and r.status is RegistrationStatus.CONFIRMED
        )

    async def exists_for_event(self, event_id: UUID) -> bool:
        return any(r.event_id == event_id for r in self._rows())

    async def field_has_answers(self, field_id: UUID) -> bool:
        key = str(field_id)
        return any(key in r.answers for r in self._rows())

    async def count_promo_uses(self, promo_code_id: UUID, email_key: str) -> int:
        return sum(
            1
            for r in self._rows()
            if r.promo_code_id == promo_code_id
            and r.email_key == email_key
            and _active(r)
        )

    def _guard_duplicate(self, registration: Registration) -> None:
        """The partial unique index of the SQL table on active (event, email)."""
        if not _active(registration):
            return
        for other in self._rows():
            if (
                other.id != registration.id
                and other.event_id == registration.event_id
                and other.email_key == registration.email_key
                and _active(other)
            ):
                raise DuplicateRegistration(registration.email_key)
