"""What the registrations context needs from the outside."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationStatus,
)


class DuplicateRegistration(Exception):
    """The event already has an active registration for this email."""


class EventSeatRepository(Protocol):
    """The seat counter of each event; every change is one conditional statement.

    A counter row is made on first use. Holding the counter (`next_arrival`)
    serializes every seat change of one event until the transaction ends, which
    is what keeps the waitlist in arrival order on every engine.
    """

    async def lock(self, event_id: UUID) -> None:
        """Hold the event's counter until the transaction ends."""
        ...

    async def next_arrival(self, event_id: UUID) -> int:
        """Lock the event's counter and return a new arrival number (1, 2, ...)."""
        ...

    async def take(self, event_id: UUID, *, ignore_capacity: bool = False) -> bool:
        """Take one seat if the event's current capacity allows it.

        Capacity is read in the same statement (null is unlimited), so under
        any number of concurrent callers at most `capacity` seats are taken.
        """
        ...

    async def release(self, event_id: UUID) -> bool:
        """Give one seat back, never going below zero; false if none was taken."""
        ...

    async def taken(self, event_id: UUID) -> int: ...


class RegistrationRepository(Protocol):
    async def add(self, registration: Registration) -> None:
        """Raises DuplicateRegistration for a second active one per email."""
        ...

    async def get(self, registration_id: UUID) -> Registration | None: ...

    async def update(self, registration: Registration) -> None:
        """Write every field back; answers are replaced as a whole."""
        ...

    async def change_status(
        self,
        registration_id: UUID,
        expected: RegistrationStatus,
        registration: Registration,
    ) -> bool:
        """Write `registration` only if the stored status is still `expected`.

        The conditional update that makes a cancellation, a promotion or a
        payment happen once, however many callers race for it.
        """
        ...

    async def active_for_email(
        self, event_id: UUID, email_key: str
    ) -> Registration | None: ...

    async def list_for_event(
        self,
        event_id: UUID,
        criteria: RegistrationFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Registration], int]:
        """In arrival order, and how many match."""
        ...

    async def list_for_person(
        self,
        user_id: UUID,
        email_key: str | None,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Registration], int]:
        """Registrations of the user or made with `email_key`, newest first.

        The caller passes the key only for a verified email, which is how a
        guest's registration becomes theirs once they sign up.
        """
        ...

    async def waitlist(self, event_id: UUID) -> Sequence[Registration]:
        """Everyone still waiting, in arrival order (offers included)."""
        ...

    async def first_waiting(self, event_id: UUID) -> Registration | None:
        """The earliest waitlisted registration that holds no offer."""
        ...

    async def waitlist_rank(self, registration: Registration) -> int | None:
        """1 for the next in line; None when not waitlisted."""
        ...

    async def holds_expired(self, now: datetime, limit: int) -> Sequence[Registration]:
        """Pending payments and offers whose hold ended before `now`."""
        ...

    async def count_holding_seats(self, event_id: UUID) -> int:
        """Confirmed and pending-payment registrations, and live offers."""
        ...

    async def count_confirmed(self, event_id: UUID) -> int: ...

    async def count_active(self, event_id: UUID) -> int:
        """Registrations not cancelled: seats, payment holds and the waitlist."""
        ...

    async def exists_for_event(self, event_id: UUID) -> bool:
        """True when the event has any registration, cancelled ones included."""
        ...

    async def field_has_answers(self, field_id: UUID) -> bool: ...

    async def count_promo_uses(self, promo_code_id: UUID, email_key: str) -> int:
        """Active registrations with this email that used the code."""
        ...
