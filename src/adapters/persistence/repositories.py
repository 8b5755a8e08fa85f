"""Repositories over one SQLAlchemy connection, with explicit row mapping.

Every conditional change takes its answer from the statement that makes it
(an UPDATE's or INSERT's row count, PostgreSQL's upsert flag), so two
transactions racing for the same row cannot both win on either engine.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeGuard, TypeVar
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    Table,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Insert, Update

from adapters.persistence.tables import (
    audit_records,
    billing_customers,
    event_sessions,
    events,
    gateway_events,
    login_sessions,
    notifications,
    one_time_tokens,
    organizer_profiles,
    outbox_messages,
    plans,
    subscriptions,
    usage_counters,
    users,
)
from platform_core.audit.model import AuditRecord
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.billing.ports import DuplicateSubscription
from platform_core.billing.subscription import (
    BillingCustomer,
    Provider,
    Subscription,
    SubscriptionStatus,
)
from platform_core.events.model import (
    CatalogueFilter,
    CatalogueOrder,
    Event,
    EventFilter,
    EventFormat,
    EventSession,
    EventStatus,
    PriceFilter,
    Visibility,
)
from platform_core.events.ports import DuplicateSlug
from platform_core.identity.model import (
    LoginSession,
    OneTimeToken,
    SignupCredentials,
    TokenPurpose,
    User,
)
from platform_core.identity.ports import DuplicateEmail
from platform_core.notifications.model import Notification
from platform_core.outbox.model import OutboxMessage


def _user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "password_hash": user.password_hash,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_at": user.created_at,
        "is_verified": user.is_verified,
        "verified_at": user.verified_at,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_organizer": user.is_organizer,
        "is_lms_owner": user.is_lms_owner,
        "updated_at": user.updated_at,
    }


def _user_from_row(row: RowMapping) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        password_hash=row["password_hash"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        created_at=row["created_at"],
        is_verified=row["is_verified"],
        verified_at=row["verified_at"],
        is_active=row["is_active"],
        is_staff=row["is_staff"],
        is_organizer=row["is_organizer"],
        is_lms_owner=row["is_lms_owner"],
        updated_at=row["updated_at"],
    )


def _is_email_conflict(error: IntegrityError) -> bool:
    message = str(error.orig)
    # PostgreSQL names the constraint; SQLite names the column.
    return "uq_users_email" in message or "users.email" in message


class SqlUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: User) -> None:
        await self._write_guarding_email(
            insert(users).values(_user_values(user)), user.email
        )

    async def get(self, user_id: UUID) -> User | None:
        result = await self._connection.execute(
            select(users).where(users.c.id == user_id)
        )
        row = result.mappings().one_or_none()
        return _user_from_row(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        result = await self._connection.execute(
            select(users).where(users.c.email == email)
        )
        row = result.mappings().one_or_none()
        return _user_from_row(row) if row else None

    async def update(self, user: User) -> None:
        values = _user_values(user)
        del values["id"]
        statement = update(users).where(users.c.id == user.id).values(values)
        if await self._write_guarding_email(statement, user.email) == 0:
            raise KeyError(user.id)

    async def _write_guarding_email(
        self, statement: Insert | Update, email: str
    ) -> int:
        # The savepoint keeps the transaction usable after a unique violation,
        # which PostgreSQL would otherwise abort as a whole.
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            if _is_email_conflict(error):
                raise DuplicateEmail(email) from error
            raise
        return result.rowcount


def _session_from_row(row: RowMapping) -> LoginSession:
    return LoginSession(
        id=row["id"],
        user_id=row["user_id"],
        refresh_token_id=row["refresh_token_id"],
        user_agent=row["user_agent"],
        client_address=row["client_address"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        revoke_reason=row["revoke_reason"],
    )


class SqlLoginSessionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, session: LoginSession) -> None:
        await self._connection.execute(
            insert(login_sessions).values(
                id=session.id,
                user_id=session.user_id,
                refresh_token_id=session.refresh_token_id,
                user_agent=session.user_agent,
                client_address=session.client_address,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                expires_at=session.expires_at,
                revoked_at=session.revoked_at,
                revoke_reason=session.revoke_reason,
            )
        )

    async def get(self, session_id: UUID) -> LoginSession | None:
        result = await self._connection.execute(
            select(login_sessions).where(login_sessions.c.id == session_id)
        )
        row = result.mappings().one_or_none()
        return _session_from_row(row) if row else None

    async def list_for_user(
        self, user_id: UUID, *, active_at: datetime
    ) -> Sequence[LoginSession]:
        result = await self._connection.execute(
            select(login_sessions)
            .where(
                login_sessions.c.user_id == user_id,
                login_sessions.c.revoked_at.is_(None),
                login_sessions.c.expires_at > active_at,
            )
            .order_by(login_sessions.c.created_at.desc(), login_sessions.c.id)
        )
        return [_session_from_row(row) for row in result.mappings()]

    async def rotate(
        self, session_id: UUID, expected_token_id: str, new_token_id: str, now: datetime
    ) -> bool:
        result = await self._connection.execute(
            update(login_sessions)
            .where(
                login_sessions.c.id == session_id,
                login_sessions.c.revoked_at.is_(None),
                login_sessions.c.refresh_token_id == expected_token_id,
            )
            .values(refresh_token_id=new_token_id, last_used_at=now)
        )
        return result.rowcount == 1

    async def revoke(self, session_id: UUID, now: datetime, reason: str) -> bool:
        result = await self._connection.execute(
            update(login_sessions)
            .where(
                login_sessions.c.id == session_id,
                login_sessions.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoke_reason=reason)
        )
        return result.rowcount == 1

    async def revoke_all_for_user(
        self, user_id: UUID, now: datetime, reason: str, *, keep: UUID | None = None
    ) -> int:
        conditions: list[ColumnElement[bool]] = [
            login_sessions.c.user_id == user_id,
            login_sessions.c.revoked_at.is_(None),
        ]
        if keep is not None:
            conditions.append(login_sessions.c.id != keep)
        result = await self._connection.execute(
            update(login_sessions)
            .where(*conditions)
            .values(revoked_at=now, revoke_reason=reason)
        )
        return result.rowcount


def _token_from_row(row: RowMapping) -> OneTimeToken:
    return OneTimeToken(
        id=row["id"],
        user_id=row["user_id"],
        purpose=TokenPurpose(row["purpose"]),
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        credentials=_credentials_from_json(row["credentials"]),
    )


def _credentials_from_json(raw: Any) -> SignupCredentials | None:
    if raw is None:
        return None
    return SignupCredentials(
        password_hash=str(raw["password_hash"]),
        first_name=str(raw["first_name"]),
        last_name=str(raw["last_name"]),
    )


def _credentials_to_json(credentials: SignupCredentials | None) -> Any:
    if credentials is None:
        return None
    return {
        "password_hash": credentials.password_hash,
        "first_name": credentials.first_name,
        "last_name": credentials.last_name,
    }


class SqlOneTimeTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, token: OneTimeToken) -> None:
        await self._connection.execute(
            insert(one_time_tokens).values(
                id=token.id,
                user_id=token.user_id,
                purpose=token.purpose.value,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                credentials=_credentials_to_json(token.credentials),
            )
        )

    async def get_by_hash(
        self, token_hash: str, purpose: TokenPurpose
    ) -> OneTimeToken | None:
        result = await self._connection.execute(
            select(one_time_tokens).where(
                one_time_tokens.c.token_hash == token_hash,
                one_time_tokens.c.purpose == purpose.value,
            )
        )
        row = result.mappings().one_or_none()
        return _token_from_row(row) if row else None

    async def consume(self, token_id: UUID, now: datetime) -> bool:
        result = await self._connection.execute(
            update(one_time_tokens)
            .where(
                one_time_tokens.c.id == token_id,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount == 1

    async def void_unused(
        self, user_id: UUID, purpose: TokenPurpose, now: datetime
    ) -> int:
        result = await self._connection.execute(
            update(one_time_tokens)
            .where(
                one_time_tokens.c.user_id == user_id,
                one_time_tokens.c.purpose == purpose.value,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return result.rowcount


def _audit_from_row(row: RowMapping) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        action=row["action"],
        at=row["at"],
        actor_id=row["actor_id"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        client_address=row["client_address"],
        details=dict(row["details"]),
    )


def _audit_filter(
    actor_id: UUID | None, action: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if actor_id is not None:
        conditions.append(audit_records.c.actor_id == actor_id)
    if action is not None:
        conditions.append(audit_records.c.action == action)
    return conditions


class SqlAuditRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, record: AuditRecord) -> None:
        await self._connection.execute(
            insert(audit_records).values(
                id=record.id,
                action=record.action,
                at=record.at,
                actor_id=record.actor_id,
                target_type=record.target_type,
                target_id=record.target_id,
                client_address=record.client_address,
                details=record.details,
            )
        )

    async def list(
        self,
        *,
        actor_id: UUID | None = None,
        action: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Sequence[AuditRecord]:
        # Insertion order decides "newest", as records may share an instant.
        result = await self._connection.execute(
            select(audit_records)
            .where(*_audit_filter(actor_id, action))
            .order_by(audit_records.c.seq.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_audit_from_row(row) for row in result.mappings()]

    async def count(
        self, *, actor_id: UUID | None = None, action: str | None = None
    ) -> int:
        result = await self._connection.execute(
            select(func.count())
            .select_from(audit_records)
            .where(*_audit_filter(actor_id, action))
        )
        return int(result.scalar_one())


def _message_from_row(row: RowMapping) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        topic=row["topic"],
        payload=dict(row["payload"]),
        created_at=row["created_at"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        locked_until=row["locked_until"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
    )


class SqlOutboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, message: OutboxMessage) -> None:
        await self._connection.execute(
            insert(outbox_messages).values(
                id=message.id,
                topic=message.topic,
                payload=message.payload,
                created_at=message.created_at,
                attempts=message.attempts,
                next_attempt_at=message.next_attempt_at,
                locked_until=message.locked_until,
                sent_at=message.sent_at,
                last_error=message.last_error,
            )
        )

    async def get(self, message_id: UUID) -> OutboxMessage | None:
        result = await self._connection.execute(
            select(outbox_messages).where(outbox_messages.c.id == message_id)
        )
        row = result.mappings().one_or_none()
        return _message_from_row(row) if row else None

    async def list_due(self, now: datetime, limit: int) -> Sequence[OutboxMessage]:
        result = await self._connection.execute(
            select(outbox_messages)
            .where(
                outbox_messages.c.sent_at.is_(None),
                outbox_messages.c.next_attempt_at <= now,
                _unleased_at(now),
            )
            .order_by(outbox_messages.c.created_at, outbox_messages.c.id)
            .limit(limit)
        )
        return [_message_from_row(row) for row in result.mappings()]

    async def claim(self, message_id: UUID, now: datetime, until: datetime) -> bool:
        result = await self._connection.execute(
            update(outbox_messages)
            .where(
                outbox_messages.c.id == message_id,
                outbox_messages.c.sent_at.is_(None),
                _unleased_at(now),
            )
            .values(locked_until=until)
        )
        return result.rowcount == 1

    async def mark_sent(self, message_id: UUID, now: datetime) -> None:
        result = await self._connection.execute(
            update(outbox_messages)
            .where(outbox_messages.c.id == message_id)
            .values(sent_at=now, locked_until=None, payload={})
        )
        if result.rowcount == 0:
            raise KeyError(message_id)

    async def record_failure(
        self,
        message_id: UUID,
        attempts: int,
        next_attempt_at: datetime,
        error: str,
    ) -> None:
        result = await self._connection.execute(
            update(outbox_messages)
            .where(outbox_messages.c.id == message_id)
            .values(
                attempts=attempts,
                next_attempt_at=next_attempt_at,
                last_error=error,
                locked_until=None,
            )
        )
        if result.rowcount == 0:
            raise KeyError(message_id)


def _unleased_at(now: datetime) -> ColumnElement[bool]:
    return or_(
        outbox_messages.c.locked_until.is_(None),
        outbox_messages.c.locked_until <= now,
    )


class UnreadablePlan(Exception):
    """A stored plan holds a value this code does not know; nothing is dropped."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"The stored plan {code!r} cannot be read: {reason}.")


_Name = TypeVar("_Name", bound=enum.StrEnum)


def _plan_values(plan: Plan) -> dict[str, Any]:
    return {
        "code": plan.code,
        "name": plan.name,
        "prices": [
            {
                "interval": Interval(price.interval).value,
                "amount": price.amount,
                "currency": price.currency,
            }
            for price in plan.prices
        ],
        "trial_days": plan.trial_days,
        "capabilities": sorted(Capability(c).value for c in plan.capabilities),
        "limits": {
            Limit(name).value: plan.limits[name] for name in sorted(plan.limits)
        },
        "is_public": plan.is_public,
        "sort_order": plan.sort_order,
    }


def _plan_from_row(row: RowMapping) -> Plan:
    code: str = row["code"]
    limits: Mapping[str, object] = row["limits"]
    return Plan(
        code=code,
        name=row["name"],
        prices=tuple(_price_from_json(code, price) for price in row["prices"]),
        trial_days=row["trial_days"],
        capabilities=frozenset(
            _known(Capability, code, "capability", name) for name in row["capabilities"]
        ),
        limits={
            _known(Limit, code, "limit", name): _limit_from_json(code, name, value)
            for name, value in limits.items()
        },
        is_public=row["is_public"],
        sort_order=row["sort_order"],
    )


def _known(kind: type[_Name], code: str, what: str, value: object) -> _Name:
    for member in kind:
        if member.value == value:
            return member
    raise UnreadablePlan(code, f"unknown {what} {value!r}")


def _price_from_json(code: str, price: Any) -> Price:
    well_formed = (
        isinstance(price, dict)
        and set(price) == {"interval", "amount", "currency"}
        and _is_whole(price["amount"])
        and isinstance(price["currency"], str)
    )
    if not well_formed:
        raise UnreadablePlan(code, f"malformed price {price!r}")
    return Price(
        interval=_known(Interval, code, "price interval", price["interval"]),
        amount=price["amount"],
        currency=price["currency"],
    )


def _limit_from_json(code: str, name: str, value: object) -> int | None:
    if value is None or _is_whole(value):
        return value
    raise UnreadablePlan(code, f"limit {name!r} is {value!r}, not a whole number")


def _is_whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_byte_order(
    connection: AsyncConnection, column: ColumnElement[str]
) -> ColumnElement[str]:
    """Text compared by its bytes, as in memory, whatever PostgreSQL's collation is."""
    if connection.dialect.name == "postgresql":
        return column.collate("C")
    return column


class SqlPlanRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def list(self, *, public_only: bool = False) -> Sequence[Plan]:
        statement = select(plans).order_by(
            plans.c.sort_order, _in_byte_order(self._connection, plans.c.code)
        )
        if public_only:
            statement = statement.where(plans.c.is_public.is_(True))
        result = await self._connection.execute(statement)
        return [_plan_from_row(row) for row in result.mappings()]

    async def get(self, code: str) -> Plan | None:
        result = await self._connection.execute(
            select(plans).where(plans.c.code == code)
        )
        row = result.mappings().one_or_none()
        return _plan_from_row(row) if row else None

    async def upsert(self, plan: Plan) -> bool:
        values = _plan_values(plan) | {"updated_at": datetime.now(UTC)}
        dialect = self._connection.dialect.name
        if dialect == "postgresql":
            return await self._upsert_on_postgresql(values)
        if dialect == "sqlite":
            return await self._upsert_on_sqlite(values)
        raise NotImplementedError(f"plans cannot be upserted on {dialect}")

    async def _upsert_on_postgresql(self, values: dict[str, Any]) -> bool:
        # One statement: a concurrent insert of the same code makes this one
        # wait and then update. A row version this statement inserted has no
        # deleting or locking transaction yet, which is what xmax = 0 says.
        insert_plan = postgresql.insert(plans).values(values)
        upsert_plan = insert_plan.on_conflict_do_update(
            index_elements=[plans.c.code],
            set_={
                name: insert_plan.excluded[name] for name in values if name != "code"
            },
        ).returning(literal_column("xmax = 0", Boolean()))
        result = await self._connection.execute(upsert_plan)
        return bool(result.scalar_one())

    async def _upsert_on_sqlite(self, values: dict[str, Any]) -> bool:
        # SQLite runs one writer at a time, so nothing can come between the
        # insert that reports whether it happened and the update.
        inserted = await self._connection.execute(
            sqlite.insert(plans)
            .values(values)
            .on_conflict_do_nothing(index_elements=[plans.c.code])
        )
        if inserted.rowcount == 1:
            return True
        changes = {name: value for name, value in values.items() if name != "code"}
        await self._connection.execute(
            update(plans).where(plans.c.code == values["code"]).values(changes)
        )
        return False


def _dialect_insert(
    connection: AsyncConnection, table: Table
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the connection's dialect, which knows ON CONFLICT."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"{table.name} cannot be written on {dialect}")


def _insert_unless_present(
    connection: AsyncConnection,
    table: Table,
    values: Mapping[str, Any],
    key: Sequence[Column[Any]],
) -> Insert:
    """INSERT ... ON CONFLICT (key) DO NOTHING; its row count says if it inserted.

    On PostgreSQL an insert racing a not yet committed one with the same key
    waits for that transaction and then does nothing, or inserts if it rolled
    back; on SQLite writers take turns. Either way exactly one wins.
    """
    return (
        _dialect_insert(connection, table)
        .values(values)
        .on_conflict_do_nothing(index_elements=key)
    )


def _counter_key(
    account_id: UUID, name: Limit, period_start: datetime
) -> list[ColumnElement[bool]]:
    return [
        usage_counters.c.account_id == account_id,
        usage_counters.c.name == Limit(name).value,
        usage_counters.c.period_start == period_start,
    ]


class SqlUsageRepository:
    """Counts change only in conditional UPDATEs, whose row count is the answer.

    On PostgreSQL a racing UPDATE waits for the row's lock and re-checks its
    condition on the committed count; on SQLite writers take turns.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def consume(
        self, account_id: UUID, name: Limit, period_start: datetime, limit: int
    ) -> bool:
        if limit <= 0:
            # Nothing can be consumed, so no counter is started for it.
            return False
        await self._ensure_counter(account_id, name, period_start)
        result = await self._connection.execute(
            update(usage_counters)
            .where(
                *_counter_key(account_id, name, period_start),
                usage_counters.c.used < limit,
            )
            .values(used=usage_counters.c.used + 1)
        )
        return result.rowcount == 1

    async def release(
        self, account_id: UUID, name: Limit, period_start: datetime
    ) -> bool:
        result = await self._connection.execute(
            update(usage_counters)
            .where(
                *_counter_key(account_id, name, period_start),
                usage_counters.c.used > 0,
            )
            .values(used=usage_counters.c.used - 1)
        )
        return result.rowcount == 1

    async def used(
        self, account_id: UUID, period_start: datetime
    ) -> Mapping[Limit, int]:
        result = await self._connection.execute(
            select(usage_counters.c.name, usage_counters.c.used).where(
                usage_counters.c.account_id == account_id,
                usage_counters.c.period_start == period_start,
            )
        )
        return {Limit(name): count for name, count in result}

    async def _ensure_counter(
        self, account_id: UUID, name: Limit, period_start: datetime
    ) -> None:
        # A concurrent first use inserts the same key; the loser does nothing
        # (on PostgreSQL after waiting for the winner) and both then update.
        values = {
            "account_id": account_id,
            "name": Limit(name).value,
            "period_start": period_start,
            "used": 0,
        }
        key = [
            usage_counters.c.account_id,
            usage_counters.c.name,
            usage_counters.c.period_start,
        ]
        await self._connection.execute(
            _insert_unless_present(self._connection, usage_counters, values, key)
        )


def _subscription_values(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "account_id": subscription.account_id,
        "plan_code": subscription.plan_code,
        "status": SubscriptionStatus(subscription.status).value,
        "interval": Interval(subscription.interval).value,
        "provider": Provider(subscription.provider).value,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "billing_anchor": subscription.billing_anchor,
        "created_at": subscription.created_at,
        "trial_end": subscription.trial_end,
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "canceled_at": subscription.canceled_at,
        "ended_at": subscription.ended_at,
        "customer_ref": subscription.customer_ref,
        "external_ref": subscription.external_ref,
        "item_ref": subscription.item_ref,
        "synced_at": subscription.synced_at,
        "updated_at": subscription.updated_at,
    }


def _subscription_from_row(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        account_id=row["account_id"],
        plan_code=row["plan_code"],
        status=SubscriptionStatus(row["status"]),
        interval=Interval(row["interval"]),
        provider=Provider(row["provider"]),
        current_period_start=row["current_period_start"],
        current_period_end=row["current_period_end"],
        billing_anchor=row["billing_anchor"],
        created_at=row["created_at"],
        trial_end=row["trial_end"],
        cancel_at_period_end=row["cancel_at_period_end"],
        canceled_at=row["canceled_at"],
        ended_at=row["ended_at"],
        customer_ref=row["customer_ref"],
        external_ref=row["external_ref"],
        item_ref=row["item_ref"],
        synced_at=row["synced_at"],
        updated_at=row["updated_at"],
    )


def _subscription_conflict(
    error: IntegrityError, subscription: Subscription
) -> DuplicateSubscription | None:
    message = str(error.orig)
    # PostgreSQL names the index; SQLite names the column.
    if (
        "ix_subscriptions_current_account_id" in message
        or "subscriptions.account_id" in message
    ):
        return DuplicateSubscription(subscription.account_id)
    if (
        "ix_subscriptions_external_ref" in message
        or "subscriptions.external_ref" in message
    ):
        return DuplicateSubscription(subscription.external_ref)
    return None


class SqlSubscriptionRepository:
    """At most one current subscription per account, kept by a partial unique index.

    Writes run in a savepoint, so a refused one leaves the transaction usable.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, subscription: Subscription) -> None:
        await self._write_guarding_uniqueness(
            insert(subscriptions).values(_subscription_values(subscription)),
            subscription,
        )

    async def get(self, subscription_id: UUID) -> Subscription | None:
        return await self._one(subscriptions.c.id == subscription_id)

    async def current_for(self, account_id: UUID) -> Subscription | None:
        return await self._one(
            subscriptions.c.account_id == account_id,
            subscriptions.c.ended_at.is_(None),
        )

    async def get_by_external(self, external_ref: str) -> Subscription | None:
        return await self._one(subscriptions.c.external_ref == external_ref)

    async def had_trial(self, account_id: UUID) -> bool:
        result = await self._connection.execute(
            select(
                exists().where(
                    subscriptions.c.account_id == account_id,
                    subscriptions.c.trial_end.is_not(None),
                )
            )
        )
        return bool(result.scalar_one())

    async def update(self, subscription: Subscription) -> None:
        values = _subscription_values(subscription)
        del values["id"]
        statement = (
            update(subscriptions)
            .where(subscriptions.c.id == subscription.id)
            .values(values)
        )
        if await self._write_guarding_uniqueness(statement, subscription) == 0:
            raise KeyError(subscription.id)

    async def periods_ended(
        self, now: datetime, *, limit: int
    ) -> Sequence[Subscription]:
        return await self._many(
            [
                subscriptions.c.provider.in_(
                    [Provider.PLATFORM.value, Provider.LOCAL.value]
                ),
                subscriptions.c.current_period_end <= now,
            ],
            order_by=[subscriptions.c.current_period_end],
            limit=limit,
        )

    async def trials_ending(
        self, before: datetime, *, limit: int
    ) -> Sequence[Subscription]:
        return await self._many(
            [
                subscriptions.c.status == SubscriptionStatus.TRIALING.value,
                subscriptions.c.trial_end < before,
            ],
            order_by=[subscriptions.c.trial_end],
            limit=limit,
        )

    async def current_with_provider(
        self, provider: Provider, *, after: UUID | None, limit: int
    ) -> Sequence[Subscription]:
        # Ids are native uuids on PostgreSQL and 32 hex digits on SQLite; both
        # order like Python's UUIDs, by their bytes.
        conditions = [subscriptions.c.provider == Provider(provider).value]
        if after is not None:
            conditions.append(subscriptions.c.id > after)
        return await self._many(conditions, order_by=[], limit=limit)

    async def _one(self, *conditions: ColumnElement[bool]) -> Subscription | None:
        result = await self._connection.execute(
            select(subscriptions).where(*conditions)
        )
        row = result.mappings().one_or_none()
        return _subscription_from_row(row) if row else None

    async def _many(
        self,
        conditions: Sequence[ColumnElement[bool]],
        *,
        order_by: Sequence[ColumnElement[Any]],
        limit: int,
    ) -> Sequence[Subscription]:
        """Current subscriptions matching `conditions`, in order, then by id."""
        result = await self._connection.execute(
            select(subscriptions)
            .where(subscriptions.c.ended_at.is_(None), *conditions)
            .order_by(*order_by, subscriptions.c.id)
            .limit(limit)
        )
        return [_subscription_from_row(row) for row in result.mappings()]

    async def _write_guarding_uniqueness(
        self, statement: Insert | Update, subscription: Subscription
    ) -> int:
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            conflict = _subscription_conflict(error, subscription)
            if conflict is not None:
                raise conflict from error
            raise
        return result.rowcount


def _customer_from_row(row: RowMapping) -> BillingCustomer:
    return BillingCustomer(
        account_id=row["account_id"],
        provider=Provider(row["provider"]),
        customer_ref=row["customer_ref"],
        created_at=row["created_at"],
        default_payment_method=row["default_payment_method"],
    )


class SqlBillingCustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, account_id: UUID) -> BillingCustomer | None:
        return await self._one(billing_customers.c.account_id == account_id)

    async def get_by_ref(self, customer_ref: str) -> BillingCustomer | None:
        return await self._one(billing_customers.c.customer_ref == customer_ref)

    async def with_provider(
        self, provider: Provider, *, after: UUID | None, limit: int
    ) -> Sequence[BillingCustomer]:
        # Account ids order like Python's UUIDs on both engines, as above.
        statement = select(billing_customers).where(
            billing_customers.c.provider == Provider(provider).value
        )
        if after is not None:
            statement = statement.where(billing_customers.c.account_id > after)
        result = await self._connection.execute(
            statement.order_by(billing_customers.c.account_id).limit(limit)
        )
        return [_customer_from_row(row) for row in result.mappings()]

    async def save(self, customer: BillingCustomer) -> None:
        # One statement, so two concurrent first saves of an account do not
        # both insert; the later one replaces the earlier.
        values = {
            "account_id": customer.account_id,
            "provider": Provider(customer.provider).value,
            "customer_ref": customer.customer_ref,
            "created_at": customer.created_at,
            "default_payment_method": customer.default_payment_method,
        }
        statement = _dialect_insert(self._connection, billing_customers).values(values)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[billing_customers.c.account_id],
                set_={
                    name: statement.excluded[name]
                    for name in values
                    if name != "account_id"
                },
            )
        )

    async def _one(self, condition: ColumnElement[bool]) -> BillingCustomer | None:
        result = await self._connection.execute(
            select(billing_customers).where(condition)
        )
        row = result.mappings().one_or_none()
        return _customer_from_row(row) if row else None


class SqlGatewayEventLog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(
        self, event_id: str, event_type: str, received_at: datetime
    ) -> bool:
        result = await self._connection.execute(
            _insert_unless_present(
                self._connection,
                gateway_events,
                {
                    "event_id": event_id,
                    "event_type": event_type,
                    "received_at": received_at,
                },
                [gateway_events.c.event_id],
            )
        )
        return result.rowcount == 1


def _notification_from_row(row: RowMapping) -> Notification:
    return Notification(
        id=row["id"],
        user_id=row["user_id"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        created_at=row["created_at"],
        dedupe_key=row["dedupe_key"],
        read_at=row["read_at"],
    )


class SqlNotificationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, notification: Notification) -> bool:
        result = await self._connection.execute(
            _insert_unless_present(
                self._connection,
                notifications,
                {
                    "id": notification.id,
                    "user_id": notification.user_id,
                    "kind": notification.kind,
                    "title": notification.title,
                    "body": notification.body,
                    "created_at": notification.created_at,
                    "dedupe_key": notification.dedupe_key,
                    "read_at": notification.read_at,
                },
                [notifications.c.dedupe_key],
            )
        )
        return result.rowcount == 1

    async def list_for_user(
        self,
        user_id: UUID,
        *,
        limit: int,
        offset: int = 0,
        unread: bool | None = None,
    ) -> Sequence[Notification]:
        # The id orders notifications of one instant, as in memory.
        result = await self._connection.execute(
            select(notifications)
            .where(*_notifications_of(user_id, unread))
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_notification_from_row(row) for row in result.mappings()]

    async def count_for_user(self, user_id: UUID, *, unread: bool | None = None) -> int:
        result = await self._connection.execute(
            select(func.count())
            .select_from(notifications)
            .where(*_notifications_of(user_id, unread))
        )
        return int(result.scalar_one())

    async def get(self, notification_id: UUID) -> Notification | None:
        result = await self._connection.execute(
            select(notifications).where(notifications.c.id == notification_id)
        )
        row = result.mappings().one_or_none()
        return _notification_from_row(row) if row else None

    async def mark_read(self, notification_id: UUID, at: datetime) -> bool:
        result = await self._connection.execute(
            update(notifications)
            .where(
                notifications.c.id == notification_id,
                notifications.c.read_at.is_(None),
            )
            .values(read_at=at)
        )
        return result.rowcount == 1

    async def mark_all_read(self, user_id: UUID, at: datetime) -> int:
        result = await self._connection.execute(
            update(notifications)
            .where(*_notifications_of(user_id, True))
            .values(read_at=at)
        )
        return int(result.rowcount)


def _notifications_of(user_id: UUID, unread: bool | None) -> list[ColumnElement[bool]]:
    conditions = [notifications.c.user_id == user_id]
    if unread is True:
        conditions.append(notifications.c.read_at.is_(None))
    elif unread is False:
        conditions.append(notifications.c.read_at.is_not(None))
    return conditions


def _event_values(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "organizer_id": event.organizer_id,
        "title": event.title,
        "slug": event.slug,
        "timezone": event.timezone,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "created_at": event.created_at,
        "description": event.description,
        "format": EventFormat(event.format).value,
        "venue": event.venue,
        "address": event.address,
        "capacity": event.capacity,
        "registration_opens_at": event.registration_opens_at,
        "registration_closes_at": event.registration_closes_at,
        "price": event.price,
        "currency": event.currency,
        "cpd_credits": event.cpd_credits,
        "certificate_enabled": event.certificate_enabled,
        "min_attendance_percent": event.min_attendance_percent,
        "visibility": Visibility(event.visibility).value,
        "waitlist_enabled": event.waitlist_enabled,
        "waitlist_offer_hours": event.waitlist_offer_hours,
        "featured_image": event.featured_image,
        "status": EventStatus(event.status).value,
        "published_at": event.published_at,
        "cancelled_at": event.cancelled_at,
        "updated_at": event.updated_at,
    }


def _event_from_row(row: RowMapping) -> Event:
    return Event(
        id=row["id"],
        organizer_id=row["organizer_id"],
        title=row["title"],
        slug=row["slug"],
        timezone=row["timezone"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
        description=row["description"],
        format=EventFormat(row["format"]),
        venue=row["venue"],
        address=row["address"],
        capacity=row["capacity"],
        registration_opens_at=row["registration_opens_at"],
        registration_closes_at=row["registration_closes_at"],
        price=row["price"],
        currency=row["currency"],
        cpd_credits=row["cpd_credits"],
        certificate_enabled=row["certificate_enabled"],
        min_attendance_percent=row["min_attendance_percent"],
        visibility=Visibility(row["visibility"]),
        waitlist_enabled=row["waitlist_enabled"],
        waitlist_offer_hours=row["waitlist_offer_hours"],
        featured_image=row["featured_image"],
        status=EventStatus(row["status"]),
        published_at=row["published_at"],
        cancelled_at=row["cancelled_at"],
        updated_at=row["updated_at"],
    )


def _is_slug_conflict(error: IntegrityError) -> bool:
    message = str(error.orig)
    # PostgreSQL names the constraint; SQLite names the column.
    return "uq_events_slug" in message or "events.slug" in message


def _mentions(term: str) -> ColumnElement[bool]:
    """Title or description contains `term`, ignoring case, wildcards taken literally.

    PostgreSQL's ILIKE folds every letter; SQLite's LIKE folds ASCII letters only.
    """
    return or_(
        events.c.title.icontains(term, autoescape=True),
        events.c.description.icontains(term, autoescape=True),
    )


def _starting(
    after: datetime | None, before: datetime | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if after is not None:
        conditions.append(events.c.starts_at >= after)
    if before is not None:
        conditions.append(events.c.starts_at < before)
    return conditions


def _organizer_filter(
    organizer_id: UUID, criteria: EventFilter
) -> list[ColumnElement[bool]]:
    conditions = [
        events.c.organizer_id == organizer_id,
        *_starting(criteria.starts_after, criteria.starts_before),
    ]
    if criteria.status is not None:
        conditions.append(events.c.status == EventStatus(criteria.status).value)
    if criteria.search is not None:
        conditions.append(_mentions(criteria.search))
    return conditions


def _catalogue_filter(
    criteria: CatalogueFilter, now: datetime
) -> list[ColumnElement[bool]]:
    conditions = [
        events.c.status == EventStatus.PUBLISHED.value,
        events.c.visibility == Visibility.PUBLIC.value,
        *_starting(criteria.starts_after, criteria.starts_before),
    ]
    if not criteria.include_past:
        conditions.append(events.c.ends_at > now)
    if criteria.search is not None:
        conditions.append(_mentions(criteria.search))
    if criteria.organizer_id is not None:
        conditions.append(events.c.organizer_id == criteria.organizer_id)
    if criteria.format is not None:
        conditions.append(events.c.format == EventFormat(criteria.format).value)
    if criteria.price is PriceFilter.FREE:
        conditions.append(events.c.price == 0)
    elif criteria.price is PriceFilter.PAID:
        conditions.append(events.c.price > 0)
    return conditions


def _catalogue_order(
    connection: AsyncConnection, order: CatalogueOrder
) -> ColumnElement[Any]:
    match CatalogueOrder(order):
        case CatalogueOrder.STARTS_AT:
            return events.c.starts_at
        case CatalogueOrder.STARTS_AT_DESC:
            return events.c.starts_at.desc()
        case CatalogueOrder.TITLE:
            # lower() under the C collation folds ASCII letters only, as
            # SQLite's does and as the memory store's key does.
            return func.lower(_in_byte_order(connection, events.c.title))
        case CatalogueOrder.PRICE:
            return events.c.price
        case CatalogueOrder.PRICE_DESC:
            return events.c.price.desc()


class SqlEventRepository:
    """Events keyed by id and by a unique slug.

    Writes run in a savepoint, so a refused slug leaves the transaction usable.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, event: Event) -> None:
        await self._write_guarding_slug(
            insert(events).values(_event_values(event)), event.slug
        )

    async def get(self, event_id: UUID) -> Event | None:
        return await self._one(events.c.id == event_id)

    async def get_for_update(self, event_id: UUID) -> Event | None:
        # FOR NO KEY UPDATE on PostgreSQL: writers of the event wait, while
        # rows that only reference it (registrations, seats, sessions) may
        # still be added. SQLite leaves the clause out; its transactions
        # begin with BEGIN IMMEDIATE, so writers already take turns.
        result = await self._connection.execute(
            select(events)
            .where(events.c.id == event_id)
            .with_for_update(key_share=True)
        )
        row = result.mappings().one_or_none()
        return _event_from_row(row) if row else None

    async def get_by_slug(self, slug: str) -> Event | None:
        return await self._one(events.c.slug == slug)

    async def update(self, event: Event) -> None:
        values = _event_values(event)
        del values["id"]
        statement = update(events).where(events.c.id == event.id).values(values)
        if await self._write_guarding_slug(statement, event.slug) == 0:
            raise KeyError(event.id)

    async def delete(self, event_id: UUID) -> None:
        # The foreign key of event_sessions deletes the sessions with it.
        result = await self._connection.execute(
            delete(events).where(events.c.id == event_id)
        )
        if result.rowcount == 0:
            raise KeyError(event_id)

    async def slugs_like(self, base: str) -> set[str]:
        prefix = f"{base}-"
        result = await self._connection.execute(
            select(events.c.slug).where(
                or_(
                    events.c.slug == base,
                    events.c.slug.startswith(prefix, autoescape=True),
                )
            )
        )
        # SQLite's LIKE ignores the case of ASCII letters; slugs match exactly.
        return {
            slug for slug in result.scalars() if slug == base or slug.startswith(prefix)
        }

    async def list_for_organizer(
        self,
        organizer_id: UUID,
        criteria: EventFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Event], int]:
        return await self._page(
            _organizer_filter(organizer_id, criteria),
            order_by=events.c.starts_at,
            offset=offset,
            limit=limit,
        )

    async def catalogue(
        self, criteria: CatalogueFilter, now: datetime, *, offset: int, limit: int
    ) -> tuple[Sequence[Event], int]:
        return await self._page(
            _catalogue_filter(criteria, now),
            order_by=_catalogue_order(self._connection, criteria.order),
            offset=offset,
            limit=limit,
        )

    async def count_active(self, organizer_id: UUID, now: datetime) -> int:
        result = await self._connection.execute(
            select(func.count())
            .select_from(events)
            .where(
                events.c.organizer_id == organizer_id,
                events.c.status != EventStatus.CANCELLED.value,
                events.c.ends_at > now,
            )
        )
        return int(result.scalar_one())

    async def organizer_names(
        self, organizer_ids: Collection[UUID]
    ) -> Mapping[UUID, str]:
        wanted = set(organizer_ids)
        if not wanted:
            return {}
        result = await self._connection.execute(
            select(
                users.c.id,
                users.c.first_name,
                users.c.last_name,
                organizer_profiles.c.organization_name,
            )
            .select_from(users.outerjoin(organizer_profiles))
            .where(users.c.id.in_(wanted))
        )
        return {
            row.id: row.organization_name
            or " ".join(p for p in (row.first_name, row.last_name) if p)
            for row in result
        }

    async def _one(self, condition: ColumnElement[bool]) -> Event | None:
        result = await self._connection.execute(select(events).where(condition))
        row = result.mappings().one_or_none()
        return _event_from_row(row) if row else None

    async def _page(
        self,
        conditions: Sequence[ColumnElement[bool]],
        *,
        order_by: ColumnElement[Any],
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Event], int]:
        """One page of the events matching `conditions`, ties by id, and their count.

        Two statements, whatever the size of the page.
        """
        page = await self._connection.execute(
            select(events)
            .where(*conditions)
            .order_by(order_by, events.c.id)
            .offset(offset)
            .limit(limit)
        )
        items = [_event_from_row(row) for row in page.mappings()]
        total = await self._connection.execute(
            select(func.count()).select_from(events).where(*conditions)
        )
        return items, int(total.scalar_one())

    async def _write_guarding_slug(self, statement: Insert | Update, slug: str) -> int:
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            if _is_slug_conflict(error):
                raise DuplicateSlug(slug) from error
            raise
        return result.rowcount


def _event_session_values(session: EventSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "event_id": session.event_id,
        "title": session.title,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "created_at": session.created_at,
        "meeting_url": session.meeting_url,
        "meeting_id": session.meeting_id,
        "updated_at": session.updated_at,
    }


def _event_session_from_row(row: RowMapping) -> EventSession:
    return EventSession(
        id=row["id"],
        event_id=row["event_id"],
        title=row["title"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
        meeting_url=row["meeting_url"],
        meeting_id=row["meeting_id"],
        updated_at=row["updated_at"],
    )


class SqlEventSessionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, session: EventSession) -> None:
        await self._connection.execute(
            insert(event_sessions).values(_event_session_values(session))
        )

    async def get(self, session_id: UUID) -> EventSession | None:
        result = await self._connection.execute(
            select(event_sessions).where(event_sessions.c.id == session_id)
        )
        row = result.mappings().one_or_none()
        return _event_session_from_row(row) if row else None

    async def update(self, session: EventSession) -> None:
        values = _event_session_values(session)
        del values["id"]
        result = await self._connection.execute(
            update(event_sessions)
            .where(event_sessions.c.id == session.id)
            .values(values)
        )
        if result.rowcount == 0:
            raise KeyError(session.id)

    async def delete(self, session_id: UUID) -> None:
        result = await self._connection.execute(
            delete(event_sessions).where(event_sessions.c.id == session_id)
        )
        if result.rowcount == 0:
            raise KeyError(session_id)

    async def list_for_event(self, event_id: UUID) -> Sequence[EventSession]:
        result = await self._connection.execute(
            select(event_sessions)
            .where(event_sessions.c.event_id == event_id)
            .order_by(
                event_sessions.c.starts_at,
                _in_byte_order(self._connection, event_sessions.c.title),
                event_sessions.c.id,
            )
        )
        return [_event_session_from_row(row) for row in result.mappings()]
