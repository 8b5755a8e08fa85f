"""Registrations, their answers and the seat counters of events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
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
    event_seats,
    events,
    registration_answers,
    registrations,
)
from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationSource,
    RegistrationStatus,
)
from platform_core.registrations.ports import DuplicateRegistration
from platform_core.shared.errors import NotFound

_r = registrations
_a = registration_answers
_CANCELLED = RegistrationStatus.CANCELLED.value
_WAITLISTED = RegistrationStatus.WAITLISTED.value
_HOLDING = (
    RegistrationStatus.CONFIRMED.value,
    RegistrationStatus.PENDING_PAYMENT.value,
)


class SqlEventSeatRepository:
    """One counter row per event, changed only by conditional UPDATEs.

    The first UPDATE of a transaction on an event's row locks it until the
    transaction ends (PostgreSQL row lock; SQLite writers take turns), which
    serializes every seat change of that event.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock(self, event_id: UUID) -> None:
        await self._ensure(event_id)
        result = await self._connection.execute(
            update(event_seats)
            .where(event_seats.c.event_id == event_id)
            .values(arrivals=event_seats.c.arrivals)
        )
        if result.rowcount != 1:
            raise _event_gone()

    async def next_arrival(self, event_id: UUID) -> int:
        await self._ensure(event_id)
        result = await self._connection.execute(
            update(event_seats)
            .where(event_seats.c.event_id == event_id)
            .values(arrivals=event_seats.c.arrivals + 1)
            .returning(event_seats.c.arrivals)
        )
        arrivals = result.scalar_one_or_none()
        if arrivals is None:
            raise _event_gone()
        return int(arrivals)

    async def take(self, event_id: UUID, *, ignore_capacity: bool = False) -> bool:
        await self._ensure(event_id)
        statement = update(event_seats).where(event_seats.c.event_id == event_id)
        if not ignore_capacity:
            capacity = (
                select(events.c.capacity)
                .where(events.c.id == event_id)
                .scalar_subquery()
            )
            statement = statement.where(
                or_(capacity.is_(None), event_seats.c.taken < capacity)
            )
        result = await self._connection.execute(
            statement.values(taken=event_seats.c.taken + 1)
        )
        return result.rowcount == 1

    async def release(self, event_id: UUID) -> bool:
        result = await self._connection.execute(
            update(event_seats)
            .where(event_seats.c.event_id == event_id, event_seats.c.taken > 0)
            .values(taken=event_seats.c.taken - 1)
        )
        return result.rowcount == 1

    async def taken(self, event_id: UUID) -> int:
        result = await self._connection.execute(
            select(event_seats.c.taken).where(event_seats.c.event_id == event_id)
        )
        return int(result.scalar_one_or_none() or 0)

    async def _ensure(self, event_id: UUID) -> None:
        # A concurrent first use inserts the same key; the loser does nothing
        # (on PostgreSQL after waiting for the winner's commit).
        dialect = self._connection.dialect.name
        values = {"event_id": event_id, "taken": 0, "arrivals": 0}
        if dialect == "postgresql":
            statement: postgresql.Insert | sqlite.Insert = postgresql.insert(
                event_seats
            ).values(values)
        elif dialect == "sqlite":
            statement = sqlite.insert(event_seats).values(values)
        else:
            raise NotImplementedError(f"event_seats cannot be written on {dialect}")
        try:
            await self._connection.execute(
                statement.on_conflict_do_nothing(
                    index_elements=[event_seats.c.event_id]
                )
            )
        except IntegrityError as error:
            raise _event_gone() from error


def _event_gone() -> NotFound:
    """The event was deleted by a transaction that committed meanwhile."""
    return NotFound("No event has this id.", resource="event")


def _values(registration: Registration) -> dict[str, Any]:
    return {
        "id": registration.id,
        "event_id": registration.event_id,
        "user_id": registration.user_id,
        "email": registration.email,
        "email_key": registration.email_key,
        "first_name": registration.first_name,
        "last_name": registration.last_name,
        "status": RegistrationStatus(registration.status).value,
        "source": RegistrationSource(registration.source).value,
        "list_price": registration.list_price,
        "discount": registration.discount,
        "currency": registration.currency,
        "promo_code_id": registration.promo_code_id,
        "arrival": registration.arrival,
        "waitlist_seq": registration.waitlist_seq,
        "hold_expires_at": registration.hold_expires_at,
        "offer_expires_at": registration.offer_expires_at,
        "payment_ref": registration.payment_ref,
        "note": registration.note,
        "created_at": registration.created_at,
        "confirmed_at": registration.confirmed_at,
        "cancelled_at": registration.cancelled_at,
        "updated_at": registration.updated_at,
    }


def _from_row(row: RowMapping, answers: dict[str, Any]) -> Registration:
    return Registration(
        id=row["id"],
        event_id=row["event_id"],
        user_id=row["user_id"],
        email=row["email"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        status=RegistrationStatus(row["status"]),
        source=RegistrationSource(row["source"]),
        answers=answers,
        list_price=row["list_price"],
        discount=row["discount"],
        currency=row["currency"],
        promo_code_id=row["promo_code_id"],
        arrival=row["arrival"],
        waitlist_seq=row["waitlist_seq"],
        hold_expires_at=row["hold_expires_at"],
        offer_expires_at=row["offer_expires_at"],
        payment_ref=row["payment_ref"],
        note=row["note"],
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        cancelled_at=row["cancelled_at"],
        updated_at=row["updated_at"],
    )


def _is_duplicate(error: IntegrityError) -> bool:
    message = str(error.orig)
    # PostgreSQL names the index; SQLite names the columns.
    return (
        "ix_registrations_active_event_id_email_key" in message
        or "registrations.event_id, registrations.email_key" in message
    )


def _search(term: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(term.casefold())}%"
    full_name = func.lower(_r.c.first_name + literal(" ") + _r.c.last_name)
    return or_(
        _r.c.email_key.like(pattern, escape="\\"),
        full_name.like(pattern, escape="\\"),
    )


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlRegistrationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, registration: Registration) -> None:
        await self._write(insert(_r).values(_values(registration)), registration)
        await self._write_answers(registration)

    async def get(self, registration_id: UUID) -> Registration | None:
        found = await self._fetch(select(_r).where(_r.c.id == registration_id))
        return found[0] if found else None

    async def update(self, registration: Registration) -> None:
        values = _values(registration)
        del values["id"]
        statement = update(_r).where(_r.c.id == registration.id).values(values)
        if await self._write(statement, registration) == 0:
            raise KeyError(registration.id)
        await self._write_answers(registration, replace=True)

    async def change_status(
        self,
        registration_id: UUID,
        expected: RegistrationStatus,
        registration: Registration,
    ) -> bool:
        values = _values(registration)
        del values["id"]
        statement = (
            update(_r)
            .where(
                _r.c.id == registration_id,
                _r.c.status == RegistrationStatus(expected).value,
            )
            .values(values)
        )
        if await self._write(statement, registration) == 0:
            return False
        await self._write_answers(registration, replace=True)
        return True

    async def active_for_email(
        self, event_id: UUID, email_key: str
    ) -> Registration | None:
        found = await self._fetch(
            select(_r).where(
                _r.c.event_id == event_id,
                _r.c.email_key == email_key,
                _r.c.status != _CANCELLED,
            )
        )
        return found[0] if found else None

    async def list_for_event(
        self,
        event_id: UUID,
        criteria: RegistrationFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Registration], int]:
        conditions: list[ColumnElement[bool]] = [_r.c.event_id == event_id]
        if criteria.status is not None:
            conditions.append(_r.c.status == RegistrationStatus(criteria.status).value)
        if criteria.search:
            conditions.append(_search(criteria.search))
        page = await self._fetch(
            select(_r)
            .where(*conditions)
            .order_by(_r.c.arrival, _r.c.id)
            .offset(offset)
            .limit(limit)
        )
        return page, await self._count(*conditions)

    async def list_for_person(
        self,
        user_id: UUID,
        email_key: str | None,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Registration], int]:
        mine: ColumnElement[bool] = _r.c.user_id == user_id
        if email_key is not None:
            mine = or_(mine, _r.c.email_key == email_key)
        page = await self._fetch(
            select(_r)
            .where(mine)
            .order_by(_r.c.created_at.desc(), _r.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return page, await self._count(mine)

    async def waitlist(self, event_id: UUID) -> Sequence[Registration]:
        return await self._fetch(
            select(_r)
            .where(_r.c.event_id == event_id, _r.c.status == _WAITLISTED)
            .order_by(_r.c.waitlist_seq, _r.c.id)
        )

    async def first_waiting(self, event_id: UUID) -> Registration | None:
        found = await self._fetch(
            select(_r)
            .where(
                _r.c.event_id == event_id,
                _r.c.status == _WAITLISTED,
                _r.c.offer_expires_at.is_(None),
            )
            .order_by(_r.c.waitlist_seq, _r.c.id)
            .limit(1)
        )
        return found[0] if found else None

    async def waitlist_rank(self, registration: Registration) -> int | None:
        mine = (
            select(_r.c.event_id, _r.c.waitlist_seq)
            .where(
                _r.c.id == registration.id,
                _r.c.status == _WAITLISTED,
                _r.c.waitlist_seq.is_not(None),
            )
            .subquery()
        )
        result = await self._connection.execute(
            select(func.count())
            .select_from(_r.join(mine, _r.c.event_id == mine.c.event_id))
            .where(_r.c.status == _WAITLISTED, _r.c.waitlist_seq <= mine.c.waitlist_seq)
        )
        rank = int(result.scalar_one())
        return rank or None

    async def holds_expired(self, now: datetime, limit: int) -> Sequence[Registration]:
        expiry = func.coalesce(_r.c.hold_expires_at, _r.c.offer_expires_at)
        return await self._fetch(
            select(_r)
            .where(
                or_(
                    and_(
                        _r.c.status == RegistrationStatus.PENDING_PAYMENT.value,
                        _r.c.hold_expires_at < now,
                    ),
                    and_(
                        _r.c.status == _WAITLISTED,
                        _r.c.offer_expires_at < now,
                    ),
                )
            )
            .order_by(expiry, _r.c.id)
            .limit(limit)
        )

    async def count_holding_seats(self, event_id: UUID) -> int:
        return await self._count(
            _r.c.event_id == event_id,
            or_(
                _r.c.status.in_(_HOLDING),
                and_(_r.c.status == _WAITLISTED, _r.c.offer_expires_at.is_not(None)),
            ),
        )

    async def count_active(self, event_id: UUID) -> int:
        return await self._count(
            _r.c.event_id == event_id,
            _r.c.status != RegistrationStatus.CANCELLED.value,
        )

    async def count_confirmed(self, event_id: UUID) -> int:
        return await self._count(
            _r.c.event_id == event_id,
            _r.c.status == RegistrationStatus.CONFIRMED.value,
        )

    async def exists_for_event(self, event_id: UUID) -> bool:
        result = await self._connection.execute(
            select(exists().where(_r.c.event_id == event_id))
        )
        return bool(result.scalar_one())

    async def field_has_answers(self, field_id: UUID) -> bool:
        result = await self._connection.execute(
            select(exists().where(_a.c.field_id == field_id))
        )
        return bool(result.scalar_one())

    async def count_promo_uses(self, promo_code_id: UUID, email_key: str) -> int:
        return await self._count(
            _r.c.promo_code_id == promo_code_id,
            _r.c.email_key == email_key,
            _r.c.status != _CANCELLED,
        )

    async def _count(self, *conditions: ColumnElement[bool]) -> int:
        result = await self._connection.execute(
            select(func.count()).select_from(_r).where(*conditions)
        )
        return int(result.scalar_one())

    async def _fetch(self, statement: Select[Any]) -> list[Registration]:
        rows = list((await self._connection.execute(statement)).mappings())
        if not rows:
            return []
        answers: dict[UUID, dict[str, Any]] = defaultdict(dict)
        result = await self._connection.execute(
            select(_a.c.registration_id, _a.c.field_id, _a.c.value).where(
                _a.c.registration_id.in_([row["id"] for row in rows])
            )
        )
        for registration_id, field_id, value in result:
            answers[registration_id][str(field_id)] = value
        return [_from_row(row, dict(answers[row["id"]])) for row in rows]

    async def _write(
        self, statement: Insert | Update, registration: Registration
    ) -> int:
        # The savepoint keeps the transaction usable after a unique violation,
        # which PostgreSQL would otherwise abort as a whole.
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            if _is_duplicate(error):
                raise DuplicateRegistration(registration.email_key) from error
            raise
        return result.rowcount

    async def _write_answers(
        self, registration: Registration, *, replace: bool = False
    ) -> None:
        if replace:
            await self._connection.execute(
                delete(_a).where(_a.c.registration_id == registration.id)
            )
        if registration.answers:
            await self._connection.execute(
                insert(_a),
                [
                    {
                        "registration_id": registration.id,
                        "field_id": UUID(field_id),
                        "value": value,
                    }
                    for field_id, value in registration.answers.items()
                ],
            )
