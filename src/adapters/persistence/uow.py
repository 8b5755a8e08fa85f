"""The unit of work over one database connection and its transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.persistence.custom_field_repositories import SqlCustomFieldRepository
from adapters.persistence.profile_repositories import SqlOrganizerProfileRepository
from adapters.persistence.promo_code_repositories import SqlPromoCodeRepository
from adapters.persistence.registration_repositories import (
    SqlEventSeatRepository,
    SqlRegistrationRepository,
)
from adapters.persistence.repositories import (
    SqlAuditRepository,
    SqlBillingCustomerRepository,
    SqlEventRepository,
    SqlEventSessionRepository,
    SqlGatewayEventLog,
    SqlLoginSessionRepository,
    SqlNotificationRepository,
    SqlOneTimeTokenRepository,
    SqlOutboxRepository,
    SqlPlanRepository,
    SqlSubscriptionRepository,
    SqlUsageRepository,
    SqlUserRepository,
)
from platform_core.uow import UnitOfWorkFactory


class _Repositories:
    __slots__ = (
        "audit",
        "billing_customers",
        "custom_fields",
        "event_seats",
        "event_sessions",
        "events",
        "gateway_events",
        "login_sessions",
        "notifications",
        "one_time_tokens",
        "organizer_profiles",
        "outbox",
        "plans",
        "promo_codes",
        "registrations",
        "subscriptions",
        "usage",
        "users",
    )

    def __init__(self, connection: AsyncConnection) -> None:
        self.users = SqlUserRepository(connection)
        self.login_sessions = SqlLoginSessionRepository(connection)
        self.one_time_tokens = SqlOneTimeTokenRepository(connection)
        self.audit = SqlAuditRepository(connection)
        self.outbox = SqlOutboxRepository(connection)
        self.plans = SqlPlanRepository(connection)
        self.usage = SqlUsageRepository(connection)
        self.subscriptions = SqlSubscriptionRepository(connection)
        self.billing_customers = SqlBillingCustomerRepository(connection)
        self.gateway_events = SqlGatewayEventLog(connection)
        self.notifications = SqlNotificationRepository(connection)
        self.events = SqlEventRepository(connection)
        self.event_sessions = SqlEventSessionRepository(connection)
        self.custom_fields = SqlCustomFieldRepository(connection)
        self.organizer_profiles = SqlOrganizerProfileRepository(connection)
        self.event_seats = SqlEventSeatRepository(connection)
        self.registrations = SqlRegistrationRepository(connection)
        self.promo_codes = SqlPromoCodeRepository(connection)


class SqlUnitOfWork:
    """Checks out a connection on entry; its repositories share one transaction.

    The transaction begins with the first statement and, after `commit` or
    `rollback`, a new one begins with the next statement. Leaving the block
    rolls back whatever was not committed and returns the connection.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._repositories: _Repositories | None = None

    @property
    def users(self) -> SqlUserRepository:
        return self._open().users

    @property
    def login_sessions(self) -> SqlLoginSessionRepository:
        return self._open().login_sessions

    @property
    def one_time_tokens(self) -> SqlOneTimeTokenRepository:
        return self._open().one_time_tokens

    @property
    def audit(self) -> SqlAuditRepository:
        return self._open().audit

    @property
    def outbox(self) -> SqlOutboxRepository:
        return self._open().outbox

    @property
    def plans(self) -> SqlPlanRepository:
        return self._open().plans

    @property
    def usage(self) -> SqlUsageRepository:
        return self._open().usage

    @property
    def subscriptions(self) -> SqlSubscriptionRepository:
        return self._open().subscriptions

    @property
    def billing_customers(self) -> SqlBillingCustomerRepository:
        return self._open().billing_customers

    @property
    def gateway_events(self) -> SqlGatewayEventLog:
        return self._open().gateway_events

    @property
    def notifications(self) -> SqlNotificationRepository:
        return self._open().notifications

    @property
    def events(self) -> SqlEventRepository:
        return self._open().events

    @property
    def event_sessions(self) -> SqlEventSessionRepository:
        return self._open().event_sessions

    @property
    def custom_fields(self) -> SqlCustomFieldRepository:
        return self._open().custom_fields

    @property
    def organizer_profiles(self) -> SqlOrganizerProfileRepository:
        return self._open().organizer_profiles

    @property
    def event_seats(self) -> SqlEventSeatRepository:
        return self._open().event_seats

    @property
    def registrations(self) -> SqlRegistrationRepository:
        return self._open().registrations

    @property
    def promo_codes(self) -> SqlPromoCodeRepository:
        return self._open().promo_codes

    def _open(self) -> _Repositories:
        if self._repositories is None:
            raise RuntimeError("the unit of work is used outside `async with`")
        return self._repositories

    async def __aenter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("the unit of work is already open")
        self._connection = await self._engine.connect()
        self._repositories = _Repositories(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection, self._repositories = self._connection, None, None
        if connection is None:
            return
        try:
            await connection.rollback()
        finally:
            await connection.close()

    async def commit(self) -> None:
        await self._active_connection().commit()

    async def rollback(self) -> None:
        await self._active_connection().rollback()

    def _active_connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside `async with`")
        return self._connection


def sql_uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    """Units of work on `engine`, typed as the core's port so mypy checks the fit."""

    def create() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine)

    return create
