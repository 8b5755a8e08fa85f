"""Plans: prices per interval, capabilities and numeric limits per billing period."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from platform_core.shared.errors import FieldErrors

ATTENDEE_PLAN = "attendee"
MAX_TRIAL_DAYS = 365
MAX_AMOUNT = 100_000_000_00
MAX_LIMIT = 1_000_000_000
"""The largest finite limit per period; larger ones would not fit the counters."""
MAX_SORT_ORDER = 1_000_000_000

_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Interval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class Capability(enum.StrEnum):
    """What a plan lets an account do at all."""

    ORGANIZER = "organizer"
    LMS = "lms"
    ZOOM = "zoom"
    CERTIFICATES = "certificates"
    CUSTOM_FIELDS = "custom_fields"
    PROMO_CODES = "promo_codes"
    CONTACTS = "contacts"


class Limit(enum.StrEnum):
    """How much of something a plan allows in one billing period."""

    EVENTS_PER_PERIOD = "events_per_period"
    REGISTRATIONS_PER_EVENT = "registrations_per_event"
    CERTIFICATES_PER_PERIOD = "certificates_per_period"
    COURSES = "courses"


@dataclass(frozen=True, slots=True)
class Price:
    """A price in integer minor units of an ISO 4217 currency."""

    interval: Interval
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan a person can choose; plans are data, changed with `platform plans`."""

    code: str
    name: str
    prices: tuple[Price, ...]
    trial_days: int = 0
    capabilities: frozenset[Capability] = frozenset()
    limits: Mapping[Limit, int | None] = field(default_factory=dict)
    is_public: bool = True
    sort_order: int = 0

    def __post_init__(self) -> None:
        errors = FieldErrors()
        if not _CODE.match(self.code):
            errors.add(
                "code",
                "invalid",
                "Use 2 to 40 lowercase letters, digits, - or _; start with a letter.",
            )
        if not self.name.strip():
            errors.add("name", "required", "A plan needs a name.")
        intervals = [price.interval for price in self.prices]
        if len(set(intervals)) != len(intervals):
            errors.add("prices", "duplicate", "One price per interval.")
        for price in self.prices:
            if price.amount < 0:
                errors.add("prices", "negative", "A price cannot be negative.")
            if price.amount > MAX_AMOUNT:
                errors.add("prices", "too_large", f"At most {MAX_AMOUNT} minor units.")
            if not _CURRENCY.match(price.currency):
                errors.add(
                    "prices", "invalid_currency", f"{price.currency!r} is not ISO 4217."
                )
        if not 0 <= self.trial_days <= MAX_TRIAL_DAYS:
            errors.add(
                "trial_days", "out_of_range", f"Between 0 and {MAX_TRIAL_DAYS} days."
            )
        for name, value in self.limits.items():
            if value is not None and value < 0:
                errors.add(f"limits.{name}", "negative", "A limit cannot be negative.")
            elif value is not None and value > MAX_LIMIT:
                errors.add(
                    f"limits.{name}",
                    "too_large",
                    f"At most {MAX_LIMIT}; use null for unlimited.",
                )
        if not -MAX_SORT_ORDER <= self.sort_order <= MAX_SORT_ORDER:
            errors.add(
                "sort_order",
                "out_of_range",
                f"Between {-MAX_SORT_ORDER} and {MAX_SORT_ORDER}.",
            )
        errors.raise_if_any("The plan is not valid.")

    def price_for(self, interval: Interval) -> Price | None:
        return next((p for p in self.prices if p.interval is interval), None)

    def allows(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def limit(self, name: Limit) -> int | None:
        """The limit per period; None is unlimited and a missing limit is zero."""
        return self.limits.get(name, 0)

    @property
    def is_free(self) -> bool:
        return all(price.amount == 0 for price in self.prices)
