"""In-memory repositories and unit of work, for tests and embedding."""

from __future__ import annotations

import asyncio
import copy
import string
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from adapters.memory.promotions import MemoryPromoCodeRepository
from adapters.memory.registrations import (
    MemoryEventSeatRepository,
    MemoryRegistrationRepository,
    SeatCounter,
)
from platform_core.audit.model import AuditRecord
from platform_core.billing.model import Limit, Plan
from platform_core.billing.ports import DuplicateSubscription
from platform_core.billing.subscription import (
    BillingCustomer,
    Provider,
    Subscription,
    SubscriptionStatus,
)
from platform_core.events.fields import CustomField
from platform_core.events.model import (
    CatalogueFilter,
    CatalogueOrder,
    Event,
    EventFilter,
    EventSession,
    EventStatus,
    PriceFilter,
    Visibility,
)
from platform_core.events.ports import DuplicateSlug
from platform_core.identity.model import LoginSession, OneTimeToken, TokenPurpose, User
from platform_core.identity.ports import DuplicateEmail
from platform_core.notifications.model import Notification
from platform_core.outbox.model import OutboxMessage
from platform_core.profiles.model import OrganizerProfile
from platform_core.profiles.ports import DuplicateProfile, DuplicateProfileSlug
from platform_core.promotions.model import PromoCode
from platform_core.registrations.model import Registration


@dataclass(slots=True)
class _Tables:
    users: dict[UUID, User] = field(default_factory=dict)
    login_sessions: dict[UUID, LoginSession] = field(default_factory=dict)
    one_time_tokens: dict[UUID, OneTimeToken] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    outbox: dict[UUID, OutboxMessage] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    usage: dict[tuple[UUID, Limit, datetime], int] = field(default_factory=dict)
    subscriptions: dict[UUID, Subscription] = field(default_factory=dict)
    billing_customers: dict[UUID, BillingCustomer] = field(default_factory=dict)
    gateway_events: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    notifications: dict[UUID, Notification] = field(default_factory=dict)
    events: dict[UUID, Event] = field(default_factory=dict)
    event_sessions: dict[UUID, EventSession] = field(default_factory=dict)
    custom_fields: dict[UUID, CustomField] = field(default_factory=dict)
    organizer_profiles: dict[UUID, OrganizerProfile] = field(default_factory=dict)
    event_seats: dict[UUID, SeatCounter] = field(default_factory=dict)
    registrations: dict[UUID, Registration] = field(default_factory=dict)
    promo_codes: dict[UUID, PromoCode] = field(default_factory=dict)


class MemoryStore:
    """The committed state; units of work take turns on it."""

    def __init__(self) -> None:
        self.tables = _Tables()
        self.lock = asyncio.Lock()


class MemoryUserRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, user: User) -> None:
        if any(u.email == user.email for u in self._t.users.values()):
            raise DuplicateEmail(user.email)
        self._t.users[user.id] = copy.copy(user)

    async def get(self, user_id: UUID) -> User | None:
        user = self._t.users.get(user_id)
        return copy.copy(user) if user else None

    async def get_by_email(self, email: str) -> User | None:
        for user in self._t.users.values():
            if user.email == email:
                return copy.copy(user)
        return None

    async def update(self, user: User) -> None:
        if user.id not in self._t.users:
            raise KeyError(user.id)
        self._t.users[user.id] = copy.copy(user)


class MemoryLoginSessionRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, session: LoginSession) -> None:
        self._t.login_sessions[session.id] = copy.copy(session)

    async def get(self, session_id: UUID) -> LoginSession | None:
        session = self._t.login_sessions.get(session_id)
        return copy.copy(session) if session else None

    async def list_for_user(
        self, user_id: UUID, *, active_at: datetime
    ) -> Sequence[LoginSession]:
        found = [
            copy.copy(s)
            for s in self._t.login_sessions.values()
            if s.user_id == user_id and s.is_active(active_at)
        ]
        return sorted(found, key=lambda s: s.created_at, reverse=True)

    async def rotate(
        self, session_id: UUID, expected_token_id: str, new_token_id: str, now: datetime
    ) -> bool:
        session = self._t.login_sessions.get(session_id)
        if (
            session is None
            or session.revoked_at is not None
            or session.refresh_token_id != expected_token_id
        ):
            return False
        self._t.login_sessions[session_id] = replace(
            session, refresh_token_id=new_token_id, last_used_at=now
        )
        return True

    async def revoke(self, session_id: UUID, now: datetime, reason: str) -> bool:
        session = self._t.login_sessions.get(session_id)
        if session is None or session.revoked_at is not None:
            return False
        self._t.login_sessions[session_id] = replace(
            session, revoked_at=now, revoke_reason=reason
        )
        return True

    async def revoke_all_for_user(
        self, user_id: UUID, now: datetime, reason: str, *, keep: UUID | None = None
    ) -> int:
        revoked = 0
        for session in list(self._t.login_sessions.values()):
            if (
                session.user_id == user_id
                and session.id != keep
                and await self.revoke(session.id, now, reason)
            ):
                revoked += 1
        return revoked


class MemoryOneTimeTokenRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, token: OneTimeToken) -> None:
        self._t.one_time_tokens[token.id] = copy.copy(token)

    async def get_by_hash(
        self, token_hash: str, purpose: TokenPurpose
    ) -> OneTimeToken | None:
        for token in self._t.one_time_tokens.values():
            if token.token_hash == token_hash and token.purpose == purpose:
                return copy.copy(token)
        return None

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        token = self._t.one_time_tokens.get(token_id)
        if token is None or token.used_at is not None:
            return False
        token.used_at = now
        return True

    async def void_unused(
        self, user_id: UUID, purpose: TokenPurpose, now: datetime
    ) -> int:
        voided = 0
        for token in self._t.one_time_tokens.values():
            if (
                token.user_id == user_id
                and token.purpose == purpose
                and not token.used_at
            ):
                token.used_at = now
                voided += 1
        return voided


class MemoryAuditRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, record: AuditRecord) -> None:
        self._t.audit.append(record)

    def _matching(self, actor_id: UUID | None, action: str | None) -> list[AuditRecord]:
        return [
            r
            for r in reversed(self._t.audit)
            if (actor_id is None or r.actor_id == actor_id)
            and (action is None or r.action == action)
        ]

    async def list(
        self,
        *,
        actor_id: UUID | None = None,
        action: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Sequence[AuditRecord]:
        return self._matching(actor_id, action)[offset : offset + limit]

    async def count(
        self, *, actor_id: UUID | None = None, action: str | None = None
    ) -> int:
        return len(self._matching(actor_id, action))


class MemoryOutboxRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, message: OutboxMessage) -> None:
        self._t.outbox[message.id] = copy.deepcopy(message)

    async def get(self, message_id: UUID) -> OutboxMessage | None:
        message = self._t.outbox.get(message_id)
        return copy.deepcopy(message) if message else None

    async def list_due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        due = [
            copy.deepcopy(m)
            for m in self._t.outbox.values()
            if m.sent_at is None
            and m.next_attempt_at is not None
            and m.next_attempt_at <= now
            and (m.locked_until is None or m.locked_until <= now)
        ]
        due.sort(key=lambda m: (m.created_at, str(m.id)))
        return due[:limit]

    async def claim(self, message_id: UUID, now: datetime, until: datetime) -> bool:
        message = self._t.outbox.get(message_id)
        if (
            message is None
            or message.sent_at is not None
            or (message.locked_until is not None and message.locked_until > now)
        ):
            return False
        message.locked_until = until
        return True

    async def mark_sent(self, message_id: UUID, now: datetime) -> None:
        message = self._t.outbox[message_id]
        message.sent_at = now
        message.locked_until = None
        message.payload = {}

    async def record_failure(
        self,
        message_id: UUID,
        attempts: int,
        next_attempt_at: datetime,
        error: str,
    ) -> None:
        message = self._t.outbox[message_id]
        message.attempts = attempts
        message.next_attempt_at = next_attempt_at
        message.last_error = error
        message.locked_until = None


class MemoryPlanRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def list(self, *, public_only: bool = False) -> Sequence[Plan]:
        plans = [p for p in self._t.plans.values() if p.is_public or not public_only]
        return sorted(plans, key=lambda p: (p.sort_order, p.code))

    async def get(self, code: str) -> Plan | None:
        return self._t.plans.get(code)

    async def upsert(self, plan: Plan) -> bool:
        created = plan.code not in self._t.plans
        self._t.plans[plan.code] = plan
        return created


class MemoryUsageRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def consume(
        self, account_id: UUID, name: Limit, period_start: datetime, limit: int
    ) -> bool:
        key = (account_id, name, period_start)
        if self._t.usage.get(key, 0) >= limit:
            return False
        self._t.usage[key] = self._t.usage.get(key, 0) + 1
        return True

    async def release(
        self, account_id: UUID, name: Limit, period_start: datetime
    ) -> bool:
        key = (account_id, name, period_start)
        if self._t.usage.get(key, 0) <= 0:
            return False
        self._t.usage[key] -= 1
        return True

    async def used(
        self, account_id: UUID, period_start: datetime
    ) -> Mapping[Limit, int]:
        return {
            name: count
            for (account, name, start), count in self._t.usage.items()
            if account == account_id and start == period_start
        }


class MemorySubscriptionRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, subscription: Subscription) -> None:
        self._guard_uniqueness(subscription)
        self._t.subscriptions[subscription.id] = copy.copy(subscription)

    async def get(self, subscription_id: UUID) -> Subscription | None:
        subscription = self._t.subscriptions.get(subscription_id)
        return copy.copy(subscription) if subscription else None

    async def current_for(self, account_id: UUID) -> Subscription | None:
        for subscription in self._t.subscriptions.values():
            if subscription.account_id == account_id and subscription.is_current:
                return copy.copy(subscription)
        return None

    async def get_by_external(self, external_ref: str) -> Subscription | None:
        for subscription in self._t.subscriptions.values():
            if subscription.external_ref == external_ref:
                return copy.copy(subscription)
        return None

    async def had_trial(self, account_id: UUID) -> bool:
        return any(
            s.account_id == account_id and s.trial_end is not None
            for s in self._t.subscriptions.values()
        )

    async def update(self, subscription: Subscription) -> None:
        if subscription.id not in self._t.subscriptions:
            raise KeyError(subscription.id)
        self._guard_uniqueness(subscription)
        self._t.subscriptions[subscription.id] = copy.copy(subscription)

    async def periods_ended(
        self, now: datetime, *, limit: int
    ) -> Sequence[Subscription]:
        ended = [
            copy.copy(s)
            for s in self._t.subscriptions.values()
            if s.is_current
            and s.provider in (Provider.PLATFORM, Provider.LOCAL)
            and s.current_period_end <= now
        ]
        ended.sort(key=lambda s: (s.current_period_end, s.id))
        return ended[:limit]

    async def trials_ending(
        self, before: datetime, *, limit: int
    ) -> Sequence[Subscription]:
        ending = [
            copy.copy(s)
            for s in self._t.subscriptions.values()
            if s.is_current
            and s.status == SubscriptionStatus.TRIALING
            and s.trial_end is not None
            and s.trial_end < before
        ]
        ending.sort(key=lambda s: (s.trial_end, s.id))
        return ending[:limit]

    async def current_with_provider(
        self, provider: Provider, *, after: UUID | None, limit: int
    ) -> Sequence[Subscription]:
        found = [
            copy.copy(s)
            for s in self._t.subscriptions.values()
            if s.is_current
            and s.provider == provider
            and (after is None or s.id > after)
        ]
        found.sort(key=lambda s: s.id)
        return found[:limit]

    def _guard_uniqueness(self, subscription: Subscription) -> None:
        """The two unique indexes of the SQL table, checked against the other rows."""
        for other in self._t.subscriptions.values():
            if other.id == subscription.id:
                continue
            if (
                subscription.is_current
                and other.is_current
                and other.account_id == subscription.account_id
            ):
                raise DuplicateSubscription(subscription.account_id)
            if (
                subscription.external_ref is not None
                and other.external_ref == subscription.external_ref
            ):
                raise DuplicateSubscription(subscription.external_ref)


class MemoryBillingCustomerRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def get(self, account_id: UUID) -> BillingCustomer | None:
        return self._t.billing_customers.get(account_id)

    async def get_by_ref(self, customer_ref: str) -> BillingCustomer | None:
        for customer in self._t.billing_customers.values():
            if customer.customer_ref == customer_ref:
                return customer
        return None

    async def with_provider(
        self, provider: Provider, *, after: UUID | None, limit: int
    ) -> Sequence[BillingCustomer]:
        found = sorted(
            (
                c
                for c in self._t.billing_customers.values()
                if c.provider == provider and (after is None or c.account_id > after)
            ),
            key=lambda c: c.account_id,
        )
        return found[:limit]

    async def save(self, customer: BillingCustomer) -> None:
        for other in self._t.billing_customers.values():
            if (
                other.account_id != customer.account_id
                and other.customer_ref == customer.customer_ref
            ):
                raise ValueError(
                    f"customer {customer.customer_ref!r} belongs to another account"
                )
        self._t.billing_customers[customer.account_id] = customer


class MemoryGatewayEventLog:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def record(
        self, event_id: str, event_type: str, received_at: datetime
    ) -> bool:
        if event_id in self._t.gateway_events:
            return False
        self._t.gateway_events[event_id] = (event_type, received_at)
        return True


class MemoryNotificationRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, notification: Notification) -> bool:
        if any(
            n.dedupe_key == notification.dedupe_key
            for n in self._t.notifications.values()
        ):
            return False
        self._t.notifications[notification.id] = notification
        return True

    async def list_for_user(
        self,
        user_id: UUID,
        *,
        limit: int,
        offset: int = 0,
        unread: bool | None = None,
    ) -> Sequence[Notification]:
        found = self._of(user_id, unread)
        # Newest first; the id orders notifications of one instant, as in SQL.
        found.sort(key=lambda n: n.id, reverse=True)
        found.sort(key=lambda n: n.created_at, reverse=True)
        return found[offset : offset + limit]

    async def count_for_user(self, user_id: UUID, *, unread: bool | None = None) -> int:
        return len(self._of(user_id, unread))

    async def get(self, notification_id: UUID) -> Notification | None:
        return self._t.notifications.get(notification_id)

    async def mark_read(self, notification_id: UUID, at: datetime) -> bool:
        found = self._t.notifications.get(notification_id)
        if found is None or found.read_at is not None:
            return False
        self._t.notifications[notification_id] = replace(found, read_at=at)
        return True

    async def mark_all_read(self, user_id: UUID, at: datetime) -> int:
        unread = self._of(user_id, True)
        for notification in unread:
            self._t.notifications[notification.id] = replace(notification, read_at=at)
        return len(unread)

    def _of(self, user_id: UUID, unread: bool | None) -> list[Notification]:
        return [
            n
            for n in self._t.notifications.values()
            if n.user_id == user_id
            and (unread is None or (n.read_at is None) == unread)
        ]


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

_CATALOGUE_ORDER: dict[CatalogueOrder, tuple[Callable[[Event], Any], bool]] = {
    CatalogueOrder.STARTS_AT: (lambda e: e.starts_at, False),
    CatalogueOrder.STARTS_AT_DESC: (lambda e: e.starts_at, True),
    # ASCII letters only are folded, as SQLite's lower() and PostgreSQL's
    # under the C collation do.
    CatalogueOrder.TITLE: (lambda e: e.title.translate(_ASCII_LOWER), False),
    CatalogueOrder.PRICE: (lambda e: e.price, False),
    CatalogueOrder.PRICE_DESC: (lambda e: e.price, True),
}
"""How the catalogue sorts, and whether descending; ties go by id."""


def _mentions(event: Event, term: str) -> bool:
    """Title or description contains `term`, ignoring case as PostgreSQL does."""
    needle = term.lower()
    return needle in event.title.lower() or needle in event.description.lower()


def _starts_within(
    event: Event, after: datetime | None, before: datetime | None
) -> bool:
    return (after is None or event.starts_at >= after) and (
        before is None or event.starts_at < before
    )


def _in_catalogue(event: Event, criteria: CatalogueFilter, now: datetime) -> bool:
    return (
        event.status == EventStatus.PUBLISHED
        and event.visibility == Visibility.PUBLIC
        and (criteria.include_past or event.ends_at > now)
        and _starts_within(event, criteria.starts_after, criteria.starts_before)
        and (criteria.search is None or _mentions(event, criteria.search))
        and (
            criteria.organizer_id is None or event.organizer_id == criteria.organizer_id
        )
        and (criteria.format is None or event.format == criteria.format)
        and _priced(event, criteria.price)
    )


def _priced(event: Event, price: PriceFilter | None) -> bool:
    if price is None:
        return True
    if price is PriceFilter.FREE:
        return event.price == 0
    return event.price > 0


class MemoryEventRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, event: Event) -> None:
        self._guard_slug(event)
        self._t.events[event.id] = copy.copy(event)

    async def get(self, event_id: UUID) -> Event | None:
        event = self._t.events.get(event_id)
        return copy.copy(event) if event else None

    async def get_for_update(self, event_id: UUID) -> Event | None:
        # Units of work already take turns on the store's lock.
        return await self.get(event_id)

    async def get_by_slug(self, slug: str) -> Event | None:
        for event in self._t.events.values():
            if event.slug == slug:
                return copy.copy(event)
        return None

    async def update(self, event: Event) -> None:
        if event.id not in self._t.events:
            raise KeyError(event.id)
        self._guard_slug(event)
        self._t.events[event.id] = copy.copy(event)

    async def delete(self, event_id: UUID) -> None:
        del self._t.events[event_id]
        for session in list(self._t.event_sessions.values()):
            if session.event_id == event_id:
                del self._t.event_sessions[session.id]
        for item in list(self._t.custom_fields.values()):
            if item.event_id == event_id:
                del self._t.custom_fields[item.id]

    async def slugs_like(self, base: str) -> set[str]:
        return {
            e.slug
            for e in self._t.events.values()
            if e.slug == base or e.slug.startswith(f"{base}-")
        }

    async def list_for_organizer(
        self,
        organizer_id: UUID,
        criteria: EventFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Event], int]:
        found = [
            copy.copy(e)
            for e in self._t.events.values()
            if e.organizer_id == organizer_id
            and (criteria.status is None or e.status == criteria.status)
            and _starts_within(e, criteria.starts_after, criteria.starts_before)
            and (criteria.search is None or _mentions(e, criteria.search))
        ]
        found.sort(key=lambda e: (e.starts_at, e.id))
        return found[offset : offset + limit], len(found)

    async def catalogue(
        self, criteria: CatalogueFilter, now: datetime, *, offset: int, limit: int
    ) -> tuple[Sequence[Event], int]:
        found = [
            copy.copy(e)
            for e in self._t.events.values()
            if _in_catalogue(e, criteria, now)
        ]
        key, descending = _CATALOGUE_ORDER[CatalogueOrder(criteria.order)]
        found.sort(key=lambda e: e.id)
        found.sort(key=key, reverse=descending)
        return found[offset : offset + limit], len(found)

    async def count_active(self, organizer_id: UUID, now: datetime) -> int:
        return sum(
            1
            for e in self._t.events.values()
            if e.organizer_id == organizer_id
            and e.status != EventStatus.CANCELLED
            and e.ends_at > now
        )

    async def organizer_names(
        self, organizer_ids: Collection[UUID]
    ) -> Mapping[UUID, str]:
        names = {}
        for user_id in set(organizer_ids) & self._t.users.keys():
            profile = self._t.organizer_profiles.get(user_id)
            names[user_id] = (
                profile.organization_name
                if profile
                else self._t.users[user_id].full_name
            )
        return names

    def _guard_slug(self, event: Event) -> None:
        """The unique slug of the SQL table, checked against the other rows."""
        for other in self._t.events.values():
            if other.id != event.id and other.slug == event.slug:
                raise DuplicateSlug(event.slug)


class MemoryEventSessionRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, session: EventSession) -> None:
        self._t.event_sessions[session.id] = copy.copy(session)

    async def get(self, session_id: UUID) -> EventSession | None:
        session = self._t.event_sessions.get(session_id)
        return copy.copy(session) if session else None

    async def update(self, session: EventSession) -> None:
        if session.id not in self._t.event_sessions:
            raise KeyError(session.id)
        self._t.event_sessions[session.id] = copy.copy(session)

    async def delete(self, session_id: UUID) -> None:
        del self._t.event_sessions[session_id]

    async def list_for_event(self, event_id: UUID) -> Sequence[EventSession]:
        found = [
            copy.copy(s)
            for s in self._t.event_sessions.values()
            if s.event_id == event_id
        ]
        return sorted(found, key=lambda s: (s.starts_at, s.title, s.id))


class MemoryCustomFieldRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, field: CustomField) -> None:
        self._t.custom_fields[field.id] = copy.copy(field)

    async def get(self, field_id: UUID) -> CustomField | None:
        found = self._t.custom_fields.get(field_id)
        return copy.copy(found) if found else None

    async def update(self, field: CustomField) -> None:
        if field.id not in self._t.custom_fields:
            raise KeyError(field.id)
        self._t.custom_fields[field.id] = copy.copy(field)

    async def delete(self, field_id: UUID) -> None:
        del self._t.custom_fields[field_id]

    async def list_for_event(
        self, event_id: UUID, *, include_archived: bool = False
    ) -> Sequence[CustomField]:
        found = [
            copy.copy(f)
            for f in self._t.custom_fields.values()
            if f.event_id == event_id and (include_archived or not f.is_archived)
        ]
        return sorted(found, key=lambda f: (f.order, f.created_at, f.id))


class MemoryOrganizerProfileRepository:
    def __init__(self, tables: _Tables) -> None:
        self._t = tables

    async def add(self, profile: OrganizerProfile) -> None:
        if profile.user_id in self._t.organizer_profiles:
            raise DuplicateProfile(profile.user_id)
        self._guard_slug(profile)
        self._t.organizer_profiles[profile.user_id] = copy.deepcopy(profile)

    async def get(self, user_id: UUID) -> OrganizerProfile | None:
        profile = self._t.organizer_profiles.get(user_id)
        return copy.deepcopy(profile) if profile else None

    async def get_by_slug(self, slug: str) -> OrganizerProfile | None:
        for profile in self._t.organizer_profiles.values():
            if profile.slug == slug:
                return copy.deepcopy(profile)
        return None

    async def update(self, profile: OrganizerProfile) -> None:
        if profile.user_id not in self._t.organizer_profiles:
            raise KeyError(profile.user_id)
        self._guard_slug(profile)
        self._t.organizer_profiles[profile.user_id] = copy.deepcopy(profile)

    async def slugs_like(self, base: str) -> set[str]:
        return {
            p.slug
            for p in self._t.organizer_profiles.values()
            if p.slug == base or p.slug.startswith(f"{base}-")
        }

    def _guard_slug(self, profile: OrganizerProfile) -> None:
        """The unique slug of the SQL table, checked against the other rows."""
        for other in self._t.organizer_profiles.values():
            if other.user_id != profile.user_id and other.slug == profile.slug:
                raise DuplicateProfileSlug(profile.slug)


class MemoryUnitOfWork:
    """Works on a private copy of the store and swaps it in on commit.

    Units of work take turns (one lock), which is what makes the
    conditional updates above atomic.
    """

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._tables = _Tables()

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self._begin()
        return self

    def _begin(self) -> None:
        self._tables = copy.deepcopy(self._store.tables)
        self.users = MemoryUserRepository(self._tables)
        self.login_sessions = MemoryLoginSessionRepository(self._tables)
        self.one_time_tokens = MemoryOneTimeTokenRepository(self._tables)
        self.audit = MemoryAuditRepository(self._tables)
        self.outbox = MemoryOutboxRepository(self._tables)
        self.plans = MemoryPlanRepository(self._tables)
        self.usage = MemoryUsageRepository(self._tables)
        self.subscriptions = MemorySubscriptionRepository(self._tables)
        self.billing_customers = MemoryBillingCustomerRepository(self._tables)
        self.gateway_events = MemoryGatewayEventLog(self._tables)
        self.notifications = MemoryNotificationRepository(self._tables)
        self.events = MemoryEventRepository(self._tables)
        self.event_sessions = MemoryEventSessionRepository(self._tables)
        self.custom_fields = MemoryCustomFieldRepository(self._tables)
        self.organizer_profiles = MemoryOrganizerProfileRepository(self._tables)
        self.event_seats = MemoryEventSeatRepository(self._tables)
        self.registrations = MemoryRegistrationRepository(self._tables)
        self.promo_codes = MemoryPromoCodeRepository(self._tables)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.lock.release()

    async def commit(self) -> None:
        self._store.tables = self._tables
        self._begin()

    async def rollback(self) -> None:
        self._begin()
