"""Registrations of people for events, and the order of the waitlist."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from platform_core.identity.model import normalize_email
from platform_core.shared.ids import new_id


class RegistrationStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    @property
    def holds_seat(self) -> bool:
        return self in (
            RegistrationStatus.PENDING_PAYMENT,
            RegistrationStatus.CONFIRMED,
        )


class RegistrationSource(enum.StrEnum):
    PUBLIC = "public"
    BULK = "bulk"


@dataclass(slots=True)
class Registration:
    """One person's place at one event.

    `email_key` is the normalized email: one active registration per event and
    key. `arrival` numbers the event's registrations in the order they came
    (bulk rows in their input order); `waitlist_seq` is the arrival number of
    everyone who joined the waitlist; positions are ranks among those still
    waiting. A waitlisted registration with `offer_expires_at` holds a seat
    offered to it until then.
    """

    event_id: UUID
    email: str
    first_name: str
    last_name: str
    status: RegistrationStatus
    created_at: datetime
    id: UUID = field(default_factory=new_id)
    user_id: UUID | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    list_price: int = 0
    discount: int = 0
    currency: str | None = None
    promo_code_id: UUID | None = None
    arrival: int = 0
    waitlist_seq: int | None = None
    hold_expires_at: datetime | None = None
    offer_expires_at: datetime | None = None
    payment_ref: str | None = None
    note: str = ""
    source: RegistrationSource = RegistrationSource.PUBLIC
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def email_key(self) -> str:
        return normalize_email(self.email)

    @property
    def amount(self) -> int:
        """What the registrant pays, in minor units of `currency`."""
        return max(0, self.list_price - self.discount)

    @property
    def holds_seat(self) -> bool:
        return self.status.holds_seat or self.offer_expires_at is not None


@dataclass(frozen=True, slots=True)
class RegistrationFilter:
    """How an organizer narrows an event's registrations."""

    status: RegistrationStatus | None = None
    search: str | None = None
