"""Events, their sessions, and the rules an event must satisfy."""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from platform_core.shared.errors import FieldErrors
from platform_core.shared.ids import new_id, reads_as_uuid

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
PLACE_MAX = 500
CAPACITY_MAX = 1_000_000
PRICE_MAX = 100_000_000_00
CPD_MAX = Decimal("1000")
OFFER_HOURS_MAX = 168
SLUG_MAX = 80
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


class EventFormat(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"

    @property
    def has_place(self) -> bool:
        return self is not EventFormat.ONLINE


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    UNLISTED = "unlisted"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


def _unprintable(text: str, *, multiline: bool = False) -> bool:
    """True for text with control characters; `multiline` allows line breaks, tabs."""
    allowed = "\n\r\t" if multiline else ""
    return any(
        unicodedata.category(char) in ("Cc", "Cs") and char not in allowed
        for char in text
    )


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens; `event` when nothing is left.

    A slug never reads as a uuid, since identifiers may be either.
    """
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-") or "event"
    return f"event-{slug}" if reads_as_uuid(slug) else slug


_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, tzinfo=UTC)
"""Instants an event may use; they convert safely to every time zone."""


@functools.cache
def _zones() -> frozenset[str]:
    """IANA zones that name a place, without the host's `localtime` and the
    `posix/` and `right/` copies some systems ship."""
    return frozenset(
        zone
        for zone in available_timezones()
        if zone not in _NOT_PLACES and not zone.startswith(("posix/", "right/"))
    )


def in_range(moment: datetime) -> bool:
    """True for an instant between EARLIEST and LATEST."""
    try:
        return EARLIEST <= moment.astimezone(UTC) <= LATEST
    except OverflowError:
        return False


def check_instants(errors: FieldErrors, **moments: datetime | None) -> bool:
    """Name every instant outside the supported range; true when all are inside."""
    inside = True
    for name, moment in moments.items():
        if moment is not None and not in_range(moment):
            errors.add(name, "out_of_range", "Use a date between 1970 and 2999.")
            inside = False
    return inside


def is_time_zone(name: str) -> bool:
    """True for an IANA zone name such as `Europe/Paris` (not a bare offset)."""
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclass(slots=True)
class Event:
    """An event an organizer runs; times are aware UTC, shown in `timezone`."""

    organizer_id: UUID
    title: str
    slug: str
    timezone: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    id: UUID = field(default_factory=new_id)
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
    """Null promotes the next waitlisted at once; else how long an offer lasts."""
    featured_image: str | None = None
    status: EventStatus = EventStatus.DRAFT
    published_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_published(self) -> bool:
        return self.status is EventStatus.PUBLISHED

    @property
    def is_listed(self) -> bool:
        """Shown in the public catalogue: published and public."""
        return self.is_published and self.visibility is Visibility.PUBLIC

    def registration_open(self, now: datetime) -> bool:
        if not self.is_published:
            return False
        opens = self.registration_opens_at
        closes = self.registration_closes_at or self.ends_at
        return (opens is None or opens <= now) and now < closes

    def check(self) -> None:
        """Raise ValidationFailed naming every field that breaks a rule."""
        errors = FieldErrors()
        if not self.title.strip():
            errors.add("title", "required", "An event needs a title.")
        elif len(self.title) > TITLE_MAX:
            errors.add("title", "too_long", f"At most {TITLE_MAX} characters.")
        elif _unprintable(self.title):
            errors.add("title", "invalid", "A title cannot hold control characters.")
        if len(self.description) > DESCRIPTION_MAX:
            errors.add(
                "description", "too_long", f"At most {DESCRIPTION_MAX} characters."
            )
        elif _unprintable(self.description, multiline=True):
            errors.add(
                "description", "invalid", "The text cannot hold control characters."
            )
        for name in ("venue", "address"):
            if len(getattr(self, name)) > PLACE_MAX:
                errors.add(name, "too_long", f"At most {PLACE_MAX} characters.")
            elif _unprintable(getattr(self, name), multiline=name == "address"):
                errors.add(name, "invalid", "The text cannot hold control characters.")
        if not is_time_zone(self.timezone):
            errors.add(
                "timezone",
                "invalid",
                f"{self.timezone!r} is not an IANA time zone such as Europe/Paris.",
            )
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if check_instants(
            errors,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            registration_opens_at=opens,
            registration_closes_at=closes,
        ):
            self._check_times(errors)
        if self.capacity is not None and not 1 <= self.capacity <= CAPACITY_MAX:
            errors.add(
                "capacity",
                "out_of_range",
                f"Between 1 and {CAPACITY_MAX}, or null for unlimited.",
            )
        if not 0 <= self.price <= PRICE_MAX:
            errors.add("price", "out_of_range", f"Between 0 and {PRICE_MAX}.")
        if self.price > 0 and self.currency is None:
            errors.add("currency", "required", "A paid event needs a currency.")
        if self.currency is not None and not _CURRENCY.match(self.currency):
            errors.add(
                "currency", "invalid", "Use an ISO 4217 code in capitals, like EUR."
            )
        if not self.cpd_credits.is_finite():
            errors.add("cpd_credits", "invalid", "A number of hours, like 1.5.")
        elif not Decimal(0) <= self.cpd_credits <= CPD_MAX:
            errors.add("cpd_credits", "out_of_range", f"Between 0 and {CPD_MAX}.")
        elif self.cpd_credits != self.cpd_credits.quantize(Decimal("0.01")):
            errors.add("cpd_credits", "invalid", "At most two decimal places.")
        if not 0 <= self.min_attendance_percent <= 100:
            errors.add("min_attendance_percent", "out_of_range", "Between 0 and 100.")
        offer_hours = self.waitlist_offer_hours
        if offer_hours is not None and not 1 <= offer_hours <= OFFER_HOURS_MAX:
            errors.add(
                "waitlist_offer_hours",
                "out_of_range",
                f"Between 1 and {OFFER_HOURS_MAX} hours, or null to promote at once.",
            )
        errors.raise_if_any("The event is not valid.")

    def _check_times(self, errors: FieldErrors) -> None:
        if self.ends_at <= self.starts_at:
            errors.add("ends_at", "before_start", "The end must be after the start.")
        opens, closes = self.registration_opens_at, self.registration_closes_at
        if opens is not None and closes is not None and closes <= opens:
            errors.add(
                "registration_closes_at",
                "before_opening",
                "Registration must close after it opens.",
            )
        if closes is not None and closes > self.ends_at:
            errors.add(
                "registration_closes_at",
                "after_end",
                "Registration cannot close after the event ends.",
            )
        if opens is not None and opens >= self.ends_at:
            errors.add(
                "registration_opens_at",
                "after_end",
                "Registration must open before the event ends.",
            )

    def missing_for_publication(self) -> FieldErrors:
        """What keeps the event out of the catalogue, by field."""
        missing = FieldErrors()
        if not _has_visible_text(self.description):
            missing.add(
                "description", "required", "Describe the event before publishing."
            )
        if self.format.has_place and not _has_visible_text(self.venue):
            missing.add(
                "venue", "required", "An in-person or hybrid event needs a venue."
            )
        if self.format.has_place and not _has_visible_text(self.address):
            missing.add(
                "address", "required", "An in-person or hybrid event needs an address."
            )
        if self.status is EventStatus.CANCELLED:
            missing.add("status", "cancelled", "A cancelled event cannot be published.")
        return missing


def _has_visible_text(text: str) -> bool:
    """True when some character would show: not only spaces, nor only invisible
    format characters such as the zero-width space."""
    return any(
        not char.isspace() and unicodedata.category(char) != "Cf" for char in text
    )


@dataclass(slots=True)
class EventSession:
    """One sitting of a multi-session event."""

    event_id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    id: UUID = field(default_factory=new_id)
    meeting_url: str | None = None
    meeting_id: str | None = None
    updated_at: datetime | None = None

    def check(self, event: Event) -> None:
        errors = FieldErrors()
        if not self.title.strip():
            errors.add("title", "required", "A session needs a title.")
        elif len(self.title) > TITLE_MAX:
            errors.add("title", "too_long", f"At most {TITLE_MAX} characters.")
        elif _unprintable(self.title):
            errors.add("title", "invalid", "A title cannot hold control characters.")
        if not check_instants(errors, starts_at=self.starts_at, ends_at=self.ends_at):
            errors.raise_if_any("The session is not valid.")
        if self.ends_at <= self.starts_at:
            errors.add("ends_at", "before_start", "The end must be after the start.")
        if self.starts_at < event.starts_at or self.ends_at > event.ends_at:
            errors.add(
                "starts_at",
                "outside_event",
                "A session must fall within the event's start and end.",
            )
        errors.raise_if_any("The session is not valid.")


@dataclass(frozen=True, slots=True)
class EventFilter:
    """How an organizer narrows their own events."""

    status: EventStatus | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    search: str | None = None


class PriceFilter(enum.StrEnum):
    FREE = "free"
    PAID = "paid"


class CatalogueOrder(enum.StrEnum):
    STARTS_AT = "starts_at"
    STARTS_AT_DESC = "-starts_at"
    TITLE = "title"
    PRICE = "price"
    PRICE_DESC = "-price"


@dataclass(frozen=True, slots=True)
class CatalogueFilter:
    """How a visitor narrows the public catalogue; upcoming events by default."""

    search: str | None = None
    organizer_id: UUID | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    format: EventFormat | None = None
    price: PriceFilter | None = None
    include_past: bool = False
    order: CatalogueOrder = CatalogueOrder.STARTS_AT
