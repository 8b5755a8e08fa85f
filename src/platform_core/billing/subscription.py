"""Subscriptions: which plan an account is on, and for which billing period."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from platform_core.billing.model import Interval
from platform_core.shared.ids import new_id


class SubscriptionStatus(enum.StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"

    @property
    def grants_plan(self) -> bool:
        """Only a trialing or active subscription gives its plan's entitlements."""
        return self in (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE)

    @property
    def is_live(self) -> bool:
        """Not over: a live paid subscription is one the account may be charged for."""
        return self is not SubscriptionStatus.CANCELED


class Provider(enum.StrEnum):
    """Who keeps a subscription's billing truth."""

    PLATFORM = "platform"
    """The free plan every account has; nothing is charged."""
    LOCAL = "local"
    """The local gateway: periods are kept here and nothing leaves the machine."""
    STRIPE = "stripe"
    """Stripe: periods and status come from Stripe and are mirrored here."""


def add_months(anchor: datetime, months: int) -> datetime:
    """The same day and time `months` later, on the month's last day if it is shorter.

    Counting from a fixed anchor keeps a period that starts on the 31st on the
    31st again whenever the month has one (31 Jan, 28 Feb, 31 Mar), where
    adding a month to the previous start would drift to the 28th.
    """
    month_index = anchor.month - 1 + months
    year = anchor.year + month_index // 12
    month = month_index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def interval_months(interval: Interval) -> int:
    return 12 if interval is Interval.YEAR else 1


def period_containing(
    anchor: datetime, interval: Interval, at: datetime
) -> tuple[datetime, datetime]:
    """The billing period, counted from `anchor`, that contains the instant `at`."""
    step = interval_months(interval)
    if at < anchor:
        return anchor, add_months(anchor, step)
    months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    count = max(0, months // step - 1)
    start = add_months(anchor, count * step)
    end = add_months(anchor, (count + 1) * step)
    while end <= at:
        count += 1
        start, end = end, add_months(anchor, (count + 1) * step)
    return start, end


@dataclass(slots=True)
class Subscription:
    """One account's subscription; at most one per account is current (not ended)."""

    account_id: UUID
    plan_code: str
    status: SubscriptionStatus
    interval: Interval
    current_period_start: datetime
    current_period_end: datetime
    billing_anchor: datetime
    created_at: datetime
    provider: Provider = Provider.PLATFORM
    id: UUID = field(default_factory=new_id)
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    customer_ref: str | None = None
    external_ref: str | None = None
    item_ref: str | None = None
    synced_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_current(self) -> bool:
        return self.ended_at is None

    @property
    def periods_kept_here(self) -> bool:
        """True when this platform, not the payment provider, rolls the periods."""
        return self.provider is not Provider.STRIPE

    def is_paid(self) -> bool:
        return self.provider is not Provider.PLATFORM


@dataclass(frozen=True, slots=True)
class BillingCustomer:
    """An account's customer record at the payment provider."""

    account_id: UUID
    provider: Provider
    customer_ref: str
    created_at: datetime
    default_payment_method: str | None = None


@dataclass(frozen=True, slots=True)
class UsageLine:
    """How much of one limit an account used in its current period."""

    used: int
    limit: int | None
    resets_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with the usage of its current period."""

    subscription: Subscription
    usage: dict[str, UsageLine]


@dataclass(frozen=True, slots=True)
class CheckoutStarted:
    """What starting a plan gave: a live subscription or a checkout to finish."""

    view: SubscriptionView
    checkout_url: str | None = None
    session_id: str | None = None
