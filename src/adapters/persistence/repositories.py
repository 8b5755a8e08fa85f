"""Repositories over one SQLAlchemy connection, with explicit row mapping.

Every conditional change is one UPDATE whose row count is the answer, so two
transactions racing for the same row cannot both win on either engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Insert, Update

from adapters.persistence.tables import (
    audit_records,
    login_sessions,
    one_time_tokens,
    outbox_messages,
    users,
)
from platform_core.audit.model import AuditRecord
from platform_core.identity.model import LoginSession, OneTimeToken, TokenPurpose, User
from platform_core.identity.ports import DuplicateEmail
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
    )


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
