"""Promo codes and the prices they make."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from platform_core.events.model import PRICE_MAX, check_instants
from platform_core.shared.errors import FieldErrors
from platform_core.shared.ids import new_id

CODE_MIN = 3
CODE_MAX = 40
USES_MAX = 1_000_000_000
PERCENT_MAX = Decimal(100)
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
_CENT = Decimal("0.01")


class DiscountType(enum.StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


class Refusal(enum.StrEnum):
    """Why a code cannot be applied; each is the `code` of the refusal."""

    UNKNOWN = "promo_code_unknown"
    INACTIVE = "promo_code_inactive"
    NOT_FOR_EVENT = "promo_code_not_for_event"
    NOT_YET_VALID = "promo_code_not_yet_valid"
    EXPIRED = "promo_code_expired"
    USED_UP = "promo_code_used_up"

    @property
    def message(self) -> str:
        return _REFUSAL_MESSAGES[self]


_REFUSAL_MESSAGES = {
    Refusal.UNKNOWN: "This promo code does not exist.",
    Refusal.INACTIVE: "This promo code has been deactivated.",
    Refusal.NOT_FOR_EVENT: "This promo code is not valid for this event.",
    Refusal.NOT_YET_VALID: "This promo code is not valid yet.",
    Refusal.EXPIRED: "This promo code has expired.",
    Refusal.USED_UP: "This promo code has been used up.",
}


def code_key(code: str) -> str:
    """Codes are unique per organizer and compared case-insensitively."""
    return code.strip().casefold()


def start_of_day(day: date, zone: str) -> datetime:
    """The first instant of `day` on the wall clock of `zone`."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def end_of_day(day: date, zone: str) -> datetime:
    """The last instant (23:59:59.999999) of `day` on the wall clock of `zone`."""
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(zone))


@dataclass(slots=True)
class PromoCode:
    """A discount an organizer hands out.

    `amount` is a percentage (0 to 100) for `percent`, or minor units of the
    event's currency for `fixed`. `all_events` codes apply to every event of
    the organizer; the others only to `event_ids`, so a code whose events
    were all deleted applies to none. `times_used` only changes through the
    repository's atomic use.
    """

    organizer_id: UUID
    code: str
    discount_type: DiscountType
    amount: Decimal
    created_at: datetime
    id: UUID = field(default_factory=new_id)
    all_events: bool = True
    event_ids: tuple[UUID, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int | None = None
    max_uses_per_email: int | None = None
    is_active: bool = True
    times_used: int = 0
    updated_at: datetime | None = None

    @property
    def key(self) -> str:
        return code_key(self.code)

    def applies_to(self, event_id: UUID) -> bool:
        return self.all_events or event_id in self.event_ids

    def refusal(self, event_id: UUID, now: datetime) -> Refusal | None:
        """Why the code cannot be used for the event at `now`, or None."""
        if not self.is_active:
            return Refusal.INACTIVE
        if not self.applies_to(event_id):
            return Refusal.NOT_FOR_EVENT
        if self.valid_from is not None and now < self.valid_from:
            return Refusal.NOT_YET_VALID
        if self.valid_until is not None and now > self.valid_until:
            return Refusal.EXPIRED
        if self.max_uses is not None and self.times_used >= self.max_uses:
            return Refusal.USED_UP
        return None

    def check(self) -> None:
        """Raise ValidationFailed naming every field that breaks a rule."""
        errors = FieldErrors()
        if not CODE_MIN <= len(self.code) <= CODE_MAX:
            errors.add(
                "code",
                "invalid_length",
                f"Between {CODE_MIN} and {CODE_MAX} characters.",
            )
        elif not _CODE.match(self.code):
            errors.add(
                "code",
                "invalid",
                "Use letters, digits, hyphens and underscores only.",
            )
        if not self.amount.is_finite():
            errors.add("amount", "invalid", "A number.")
        elif self.discount_type is DiscountType.PERCENT:
            if not Decimal(0) <= self.amount <= PERCENT_MAX:
                errors.add("amount", "out_of_range", "A percentage from 0 to 100.")
            elif self.amount != self.amount.quantize(_CENT):
                errors.add("amount", "invalid", "At most two decimal places.")
        elif self.amount != self.amount.to_integral_value():
            errors.add(
                "amount", "invalid", "A whole number of the currency's minor units."
            )
        elif not 0 <= self.amount <= PRICE_MAX:
            errors.add("amount", "out_of_range", f"Between 0 and {PRICE_MAX}.")
        if (
            check_instants(
                errors, valid_from=self.valid_from, valid_until=self.valid_until
            )
            and self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            errors.add(
                "valid_until", "before_start", "The end must be after the start."
            )
        for name in ("max_uses", "max_uses_per_email"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= USES_MAX:
                errors.add(name, "out_of_range", f"Between 1 and {USES_MAX}, or null.")
        errors.raise_if_any("The promo code is not valid.")


@dataclass(frozen=True, slots=True)
class PromoCodeFilter:
    """How an organizer narrows the list of codes; `event_id` keeps usable ones."""

    is_active: bool | None = None
    event_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """A price before and after a discount, in minor units."""

    list_price: int
    discount: int
    currency: str | None

    @property
    def final_price(self) -> int:
        return self.list_price - self.discount


def discount_for(code: PromoCode, list_price: int) -> int:
    """The discount on `list_price`, never more than the price itself.

    A percentage is rounded half up to the currency's minor unit.
    """
    if code.discount_type is DiscountType.PERCENT:
        raw = (Decimal(list_price) * code.amount / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return max(0, min(list_price, int(raw)))
    return max(0, min(list_price, int(code.amount)))
