"""What the billing context needs from the outside."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from platform_core.billing.model import Interval, Limit, Plan
from platform_core.billing.subscription import (
    BillingCustomer,
    Provider,
    Subscription,
    SubscriptionStatus,
)
from platform_core.shared.errors import DomainError


class PlanRepository(Protocol):
    """The plan catalogue, keyed by plan code."""

    async def list(self, *, public_only: bool = False) -> Sequence[Plan]:
        """Ordered by sort order, then code."""
        ...

    async def get(self, code: str) -> Plan | None: ...

    async def upsert(self, plan: Plan) -> bool:
        """Insert or replace; true when the plan is new."""
        ...


class UsageRepository(Protocol):
    """Counters of limited things per account and billing period."""

    async def consume(
        self, account_id: UUID, name: Limit, period_start: datetime, limit: int
    ) -> bool:
        """Add one use if the count is below `limit`, in one conditional update.

        Under any number of concurrent callers, exactly `limit` succeed.
        """
        ...

    async def release(
        self, account_id: UUID, name: Limit, period_start: datetime
    ) -> bool:
        """Give one use back, never going below zero; false if there was none."""
        ...

    async def used(
        self, account_id: UUID, period_start: datetime
    ) -> Mapping[Limit, int]:
        """How much of each limit the account used in the period."""
        ...


class SubscriptionRepository(Protocol):
    """Subscriptions; at most one per account has no `ended_at` (its current one)."""

    async def add(self, subscription: Subscription) -> None:
        """Raises DuplicateSubscription when the account already has a current one
        or another row has the same `external_ref`."""
        ...

    async def get(self, subscription_id: UUID) -> Subscription | None: ...

    async def current_for(self, account_id: UUID) -> Subscription | None: ...

    async def get_by_external(self, external_ref: str) -> Subscription | None: ...

    async def had_trial(self, account_id: UUID) -> bool:
        """Whether any subscription of the account, ended or not, had a trial."""
        ...

    async def update(self, subscription: Subscription) -> None: ...

    async def periods_ended(
        self, now: datetime, *, limit: int
    ) -> Sequence[Subscription]:
        """Current subscriptions whose period ended by `now` and whose periods are
        kept here (provider platform or local), oldest period end first."""
        ...

    async def trials_ending(
        self, before: datetime, *, limit: int
    ) -> Sequence[Subscription]:
        """Current trialing subscriptions whose trial ends before `before`,
        earliest first."""
        ...

    async def current_with_provider(
        self, provider: Provider, *, after: UUID | None, limit: int
    ) -> Sequence[Subscription]:
        """Current subscriptions of one provider, ordered by id, after `after`."""
        ...


class DuplicateSubscription(Exception):
    """The account already has a current subscription, or the external id is taken."""


class BillingCustomerRepository(Protocol):
    async def get(self, account_id: UUID) -> BillingCustomer | None: ...

    async def get_by_ref(self, customer_ref: str) -> BillingCustomer | None: ...

    async def with_provider(
        self, provider: Provider, *, after: UUID | None, limit: int
    ) -> Sequence[BillingCustomer]:
        """Customers at one provider, ordered by account id, after `after`."""
        ...

    async def save(self, customer: BillingCustomer) -> None:
        """Insert or replace the account's customer record."""
        ...


class GatewayEventLog(Protocol):
    """Payment-provider events already applied, so a redelivery has no effect."""

    async def record(
        self, event_id: str, event_type: str, received_at: datetime
    ) -> bool:
        """Remember the event; false when it was recorded before."""
        ...


@dataclass(frozen=True, slots=True)
class GatewaySubscription:
    """A subscription as the payment provider sees it."""

    id: str
    customer_id: str
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    plan_code: str | None = None
    interval: Interval | None = None
    item_id: str | None = None
    trial_end: datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    account_id: UUID | None = None
    default_payment_method: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """A hosted checkout; `subscription` is set once it completed."""

    id: str
    url: str | None
    complete: bool
    account_id: UUID | None = None
    subscription: GatewaySubscription | None = None


@dataclass(frozen=True, slots=True)
class PaymentCard:
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class SetupIntent:
    id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """A verified payment-provider event, reduced to what billing acts on."""

    id: str
    type: str
    created: datetime
    subscription_id: str | None = None
    customer_id: str | None = None
    account_id: UUID | None = None
    checkout_session_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    account_id: UUID
    customer_id: str
    plan: Plan
    interval: Interval
    trial_days: int
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A one-time payment for something the platform sells, such as a seat."""

    reference: UUID
    amount: int
    currency: str
    description: str
    email: str
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class Payment:
    """A one-time payment's checkout; `reference` is the request's.

    `complete` means the money was collected; `expired` that the checkout can
    no longer be paid. `amount` (minor units) and `currency` are what the
    provider charges or charged.
    """

    id: str
    url: str | None
    complete: bool
    reference: UUID | None = None
    amount: int | None = None
    currency: str | None = None
    expired: bool = False


class PaymentListener(Protocol):
    """Told what became of one-time payments' checkouts; true the first time."""

    async def payment_completed(self, payment: Payment) -> bool: ...

    async def payment_failed(self, payment: Payment) -> bool:
        """The checkout expired or its payment failed; what it held is released."""
        ...


class PaymentGateway(Protocol):
    """Subscriptions and cards at a payment provider (Stripe, or the local one).

    Failures to reach the provider raise ProviderUnavailable; a card the
    provider refuses raises ValidationFailed on the field `payment_method_id`.
    """

    @property
    def provider(self) -> Provider: ...

    async def create_customer(
        self, *, account_id: UUID, email: str, name: str, idempotency_key: str
    ) -> str:
        """The new customer's id."""
        ...

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A checkout in subscription mode; the local gateway completes it at once."""
        ...

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession | None: ...

    async def start_payment(self, request: PaymentRequest) -> Payment:
        """A checkout for one payment; the local gateway completes it at once."""
        ...

    async def retrieve_payment(self, payment_id: str) -> Payment | None: ...

    async def expire_payment(self, payment_id: str) -> Payment | None:
        """End an open checkout so it can no longer be paid.

        Returns the checkout's final state, which is complete when the payment
        arrived first; None if the provider does not know it.
        """
        ...

    async def refund_payment(self, payment_id: str) -> bool:
        """Give back in full what checkout `payment_id` collected.

        Refunds once however often it is asked; false when the checkout
        collected nothing.
        """
        ...

    async def retrieve_subscription(
        self, current: GatewaySubscription
    ) -> GatewaySubscription | None:
        """The provider's latest state of `current`; None if it does not know it."""
        ...

    async def change_plan(
        self,
        current: GatewaySubscription,
        plan: Plan,
        interval: Interval,
        *,
        idempotency_key: str,
    ) -> GatewaySubscription:
        """Swap the price of the subscription item, prorated."""
        ...

    async def set_cancel_at_period_end(
        self, current: GatewaySubscription, cancel: bool, *, idempotency_key: str
    ) -> GatewaySubscription: ...

    async def cancel_now(
        self, current: GatewaySubscription, *, idempotency_key: str
    ) -> GatewaySubscription: ...

    async def live_subscriptions(
        self, customer_id: str
    ) -> Sequence[GatewaySubscription]:
        """The customer's subscriptions the provider has not ended, newest first.

        The local gateway keeps no subscriptions of its own (the platform holds
        their truth), so it lists none.
        """
        ...

    async def list_cards(self, customer_id: str) -> Sequence[PaymentCard]: ...

    async def create_setup_intent(
        self, customer_id: str, *, idempotency_key: str
    ) -> SetupIntent: ...

    async def attach_card(
        self, customer_id: str, payment_method_id: str, *, make_default: bool
    ) -> PaymentCard: ...

    async def detach_card(self, customer_id: str, payment_method_id: str) -> None:
        """Raises NotFound when the customer has no such card."""
        ...


class ActiveWork(Protocol):
    """What an account still runs (events, courses) that a downgrade would strand.

    The events and learning contexts implement it.
    """

    async def count(self, account_id: UUID) -> Mapping[str, int]:
        """Active things by kind, e.g. {"events": 2}; zero kinds may be left out."""
        ...


class InvalidProviderEvent(DomainError):
    """A webhook whose signature, timestamp or body does not verify."""

    default_code = "invalid_signature"


@runtime_checkable
class ProviderEventVerifier(Protocol):
    """Checks a webhook's signature and reads the event it carries."""

    def verify(self, payload: bytes, signature: str | None) -> GatewayEvent:
        """The event, or InvalidProviderEvent; nothing is trusted before this."""
        ...
