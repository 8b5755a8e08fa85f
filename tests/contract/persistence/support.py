"""Builders of valid entities, with overridable fields, and a concurrency helper."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from platform_core.audit.model import AuditRecord
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.billing.subscription import (
    BillingCustomer,
    Provider,
    Subscription,
    SubscriptionStatus,
)
from platform_core.events.model import Event, EventSession
from platform_core.identity.model import LoginSession, OneTimeToken, TokenPurpose, User
from platform_core.notifications.model import Notification
from platform_core.outbox.model import OutboxMessage
from platform_core.shared.ids import digest, new_secret
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

Entity = (
    User
    | LoginSession
    | OneTimeToken
    | AuditRecord
    | OutboxMessage
    | Plan
    | Subscription
    | BillingCustomer
    | Notification
    | Event
    | EventSession
)

NOW = datetime(2031, 5, 17, 9, 30, 15, 123456, tzinfo=UTC)
"""The instant the tests treat as now; it has microseconds on purpose."""

_serial = itertools.count(1)


def a_user(**fields: Any) -> User:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "email": f"user{n}@example.org",
        "password_hash": f"$argon2id$v=19$m=65536,t=3,p=4$hash{n}",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "created_at": NOW,
    }
    return User(**(defaults | fields))


def a_session(user: User, **fields: Any) -> LoginSession:
    defaults: dict[str, Any] = {
        "user_id": user.id,
        "refresh_token_id": new_secret(),
        "user_agent": "Mozilla/5.0",
        "client_address": "203.0.113.7",
        "created_at": NOW,
        "last_used_at": NOW,
        "expires_at": NOW + timedelta(days=30),
    }
    return LoginSession(**(defaults | fields))


def a_token(
    user: User, purpose: TokenPurpose = TokenPurpose.VERIFY_EMAIL, **fields: Any
) -> OneTimeToken:
    defaults: dict[str, Any] = {
        "user_id": user.id,
        "purpose": purpose,
        "token_hash": digest(new_secret()),
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=1),
    }
    return OneTimeToken(**(defaults | fields))


def an_audit_record(
    action: str = "identity.login.succeeded", **fields: Any
) -> AuditRecord:
    defaults: dict[str, Any] = {
        "action": action,
        "at": NOW,
        "actor_id": None,
        "target_type": "user",
        "target_id": None,
        "client_address": "203.0.113.7",
        "details": {"user_agent": "Mozilla/5.0"},
    }
    return AuditRecord(**(defaults | fields))


def a_message(
    topic: str = "identity.mail.verify_email", **fields: Any
) -> OutboxMessage:
    defaults: dict[str, Any] = {
        "topic": topic,
        "payload": {"to": "ada@example.org", "link": "https://app.test/verify?t=1"},
        "created_at": NOW,
    }
    return OutboxMessage(**(defaults | fields))


def a_plan(**fields: Any) -> Plan:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "code": f"plan{n}",
        "name": f"Plan {n}",
        "prices": (
            Price(Interval.MONTH, 1900, "USD"),
            Price(Interval.YEAR, 19000, "USD"),
        ),
        "trial_days": 7,
        "capabilities": frozenset({Capability.ORGANIZER, Capability.CERTIFICATES}),
        "limits": {Limit.EVENTS_PER_PERIOD: 3, Limit.CERTIFICATES_PER_PERIOD: None},
        "sort_order": n,
    }
    return Plan(**(defaults | fields))


def a_subscription(account: User, **fields: Any) -> Subscription:
    """A current monthly subscription of the local gateway, in its first period."""
    defaults: dict[str, Any] = {
        "account_id": account.id,
        "plan_code": "organizer",
        "status": SubscriptionStatus.ACTIVE,
        "interval": Interval.MONTH,
        "provider": Provider.LOCAL,
        "current_period_start": NOW,
        "current_period_end": NOW + timedelta(days=31),
        "billing_anchor": NOW,
        "created_at": NOW,
    }
    return Subscription(**(defaults | fields))


def an_unlimited_plan_for(account: User) -> tuple[Plan, Subscription]:
    """A plan with every capability and no limits, and the account's subscription."""
    plan = a_plan(capabilities=frozenset(Capability), limits=dict.fromkeys(Limit, None))
    return plan, a_subscription(account, plan_code=plan.code)


def a_customer(account: User, **fields: Any) -> BillingCustomer:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "account_id": account.id,
        "provider": Provider.STRIPE,
        "customer_ref": f"cus_{n:014d}",
        "created_at": NOW,
    }
    return BillingCustomer(**(defaults | fields))


def a_notification(user: User, **fields: Any) -> Notification:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "user_id": user.id,
        "kind": "billing.trial_ending",
        "title": "Your trial ends soon",
        "body": "Your trial of Organizer ends in three days.",
        "created_at": NOW,
        "dedupe_key": f"billing.trial_ending:{n}",
    }
    return Notification(**(defaults | fields))


def an_event(organizer: User, **fields: Any) -> Event:
    """A draft two-hour online event a week from now."""
    n = next(_serial)
    starts_at = fields.get("starts_at", NOW + timedelta(days=7))
    defaults: dict[str, Any] = {
        "organizer_id": organizer.id,
        "title": f"Event {n}",
        "slug": f"event-{n}",
        "timezone": "Europe/Paris",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=2),
        "created_at": NOW,
    }
    return Event(**(defaults | fields))


def an_event_session(event: Event, **fields: Any) -> EventSession:
    """A one-hour sitting at the start of `event`."""
    n = next(_serial)
    starts_at = fields.get("starts_at", event.starts_at)
    defaults: dict[str, Any] = {
        "event_id": event.id,
        "title": f"Session {n}",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "created_at": NOW,
    }
    return EventSession(**(defaults | fields))


async def in_parallel(
    uow_factory: UnitOfWorkFactory,
    count: int,
    work: Callable[[UnitOfWork], Awaitable[T]],
) -> list[T]:
    """Runs `work` in `count` concurrent units of work, committing each."""

    async def one() -> T:
        async with uow_factory() as uow:
            result = await work(uow)
            await uow.commit()
            return result

    return list(await asyncio.gather(*(one() for _ in range(count))))


class Given(Protocol):
    """Stores entities, in order, in one committed unit of work."""

    async def __call__(self, *entities: Entity) -> None: ...


async def store(uow_factory: UnitOfWorkFactory, *entities: Entity) -> None:
    async with uow_factory() as uow:
        for entity in entities:
            await _add(uow, entity)
        await uow.commit()


async def _add(uow: UnitOfWork, entity: Entity) -> None:
    match entity:
        case User():
            await uow.users.add(entity)
        case LoginSession():
            await uow.login_sessions.add(entity)
        case OneTimeToken():
            await uow.one_time_tokens.add(entity)
        case AuditRecord():
            await uow.audit.add(entity)
        case OutboxMessage():
            await uow.outbox.add(entity)
        case Plan():
            await uow.plans.upsert(entity)
        case Subscription():
            await uow.subscriptions.add(entity)
        case BillingCustomer():
            await uow.billing_customers.save(entity)
        case Notification():
            await uow.notifications.add(entity)
        case Event():
            await uow.events.add(entity)
        case EventSession():
            await uow.event_sessions.add(entity)
