"""The unit of work: one transaction over every repository."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from platform_core.audit.ports import AuditRepository
from platform_core.billing.ports import (
    BillingCustomerRepository,
    GatewayEventLog,
    PlanRepository,
    SubscriptionRepository,
    UsageRepository,
)
from platform_core.events.ports import (
    CustomFieldRepository,
    EventRepository,
    EventSessionRepository,
)
from platform_core.identity.ports import (
    LoginSessionRepository,
    OneTimeTokenRepository,
    UserRepository,
)
from platform_core.notifications.ports import NotificationRepository
from platform_core.outbox.ports import OutboxRepository
from platform_core.profiles.ports import OrganizerProfileRepository
from platform_core.promotions.ports import PromoCodeRepository
from platform_core.registrations.ports import (
    EventSeatRepository,
    RegistrationRepository,
)


class UnitOfWork(Protocol):
    """Repositories sharing one transaction; nothing persists before `commit`."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def login_sessions(self) -> LoginSessionRepository: ...

    @property
    def one_time_tokens(self) -> OneTimeTokenRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def plans(self) -> PlanRepository: ...

    @property
    def usage(self) -> UsageRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def billing_customers(self) -> BillingCustomerRepository: ...

    @property
    def gateway_events(self) -> GatewayEventLog: ...

    @property
    def notifications(self) -> NotificationRepository: ...

    @property
    def events(self) -> EventRepository: ...

    @property
    def event_sessions(self) -> EventSessionRepository: ...

    @property
    def custom_fields(self) -> CustomFieldRepository: ...

    @property
    def organizer_profiles(self) -> OrganizerProfileRepository: ...

    @property
    def event_seats(self) -> EventSeatRepository: ...

    @property
    def registrations(self) -> RegistrationRepository: ...

    @property
    def promo_codes(self) -> PromoCodeRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
