"""The promo code repository over one SQLAlchemy connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Insert, Update

from adapters.persistence.tables import promo_code_events, promo_codes
from platform_core.promotions.model import DiscountType, PromoCode, PromoCodeFilter
from platform_core.promotions.ports import DuplicatePromoCode


def _code_values(code: PromoCode) -> dict[str, Any]:
    return {
        "id": code.id,
        "organizer_id": code.organizer_id,
        "code": code.code,
        "code_key": code.key,
        "discount_type": code.discount_type.value,
        "amount": code.amount,
        "all_events": code.all_events,
        "valid_from": code.valid_from,
        "valid_until": code.valid_until,
        "max_uses": code.max_uses,
        "max_uses_per_email": code.max_uses_per_email,
        "is_active": code.is_active,
        "times_used": code.times_used,
        "created_at": code.created_at,
        "updated_at": code.updated_at,
    }


def _code_from_row(row: RowMapping, event_ids: Iterable[UUID]) -> PromoCode:
    return PromoCode(
        id=row["id"],
        organizer_id=row["organizer_id"],
        code=row["code"],
        discount_type=DiscountType(row["discount_type"]),
        amount=row["amount"],
        all_events=row["all_events"],
        event_ids=tuple(sorted(event_ids)),
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        max_uses=row["max_uses"],
        max_uses_per_email=row["max_uses_per_email"],
        is_active=row["is_active"],
        times_used=row["times_used"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _is_duplicate(error: IntegrityError) -> bool:
    # PostgreSQL names the index; SQLite names the columns.
    message = str(error.orig)
    return (
        "ix_promo_codes_organizer_id_code_key" in message
        or "promo_codes.organizer_id, promo_codes.code_key" in message
    )


def _criteria(organizer_id: UUID, criteria: PromoCodeFilter) -> list[Any]:
    conditions: list[Any] = [promo_codes.c.organizer_id == organizer_id]
    if criteria.is_active is not None:
        conditions.append(promo_codes.c.is_active.is_(criteria.is_active))
    if criteria.event_id is not None:
        linked = exists().where(
            promo_code_events.c.promo_code_id == promo_codes.c.id,
            promo_code_events.c.event_id == criteria.event_id,
        )
        conditions.append(or_(promo_codes.c.all_events.is_(True), linked))
    return conditions


class SqlPromoCodeRepository:
    """Codes and the events they are limited to.

    Writes of a code run in a savepoint, so a refused key leaves the
    transaction usable.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, code: PromoCode) -> None:
        await self._write(insert(promo_codes).values(_code_values(code)))
        await self._link(code)

    async def get(self, code_id: UUID) -> PromoCode | None:
        return await self._one(promo_codes.c.id == code_id)

    async def get_by_key(self, organizer_id: UUID, key: str) -> PromoCode | None:
        return await self._one(
            promo_codes.c.organizer_id == organizer_id,
            promo_codes.c.code_key == key,
        )

    async def update(self, code: PromoCode) -> None:
        values = _code_values(code)
        for name in ("id", "organizer_id", "created_at", "times_used"):
            del values[name]
        statement = (
            update(promo_codes).where(promo_codes.c.id == code.id).values(values)
        )
        if await self._write(statement) == 0:
            raise KeyError(code.id)
        await self._connection.execute(
            delete(promo_code_events).where(
                promo_code_events.c.promo_code_id == code.id
            )
        )
        await self._link(code)

    async def list_for_organizer(
        self,
        organizer_id: UUID,
        criteria: PromoCodeFilter,
        *,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[PromoCode], int]:
        conditions = _criteria(organizer_id, criteria)
        result = await self._connection.execute(
            select(promo_codes)
            .where(*conditions)
            .order_by(promo_codes.c.created_at.desc(), promo_codes.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = result.mappings().all()
        total = await self._connection.scalar(
            select(func.count()).select_from(promo_codes).where(*conditions)
        )
        links = await self._events_of([row["id"] for row in rows])
        return [_code_from_row(row, links[row["id"]]) for row in rows], total or 0

    async def use(self, code_id: UUID) -> bool:
        result = await self._connection.execute(
            update(promo_codes)
            .where(
                promo_codes.c.id == code_id,
                promo_codes.c.is_active.is_(True),
                or_(
                    promo_codes.c.max_uses.is_(None),
                    promo_codes.c.times_used < promo_codes.c.max_uses,
                ),
            )
            .values(times_used=promo_codes.c.times_used + 1)
        )
        return result.rowcount == 1

    async def give_back(self, code_id: UUID) -> bool:
        result = await self._connection.execute(
            update(promo_codes)
            .where(promo_codes.c.id == code_id, promo_codes.c.times_used > 0)
            .values(times_used=promo_codes.c.times_used - 1)
        )
        return result.rowcount == 1

    async def _one(self, *conditions: ColumnElement[bool]) -> PromoCode | None:
        result = await self._connection.execute(select(promo_codes).where(*conditions))
        row = result.mappings().one_or_none()
        if row is None:
            return None
        links = await self._events_of([row["id"]])
        return _code_from_row(row, links[row["id"]])

    async def _events_of(self, code_ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
        found: dict[UUID, list[UUID]] = defaultdict(list)
        if not code_ids:
            return found
        result = await self._connection.execute(
            select(
                promo_code_events.c.promo_code_id, promo_code_events.c.event_id
            ).where(promo_code_events.c.promo_code_id.in_(code_ids))
        )
        for code_id, event_id in result.all():
            found[code_id].append(event_id)
        return found

    async def _link(self, code: PromoCode) -> None:
        if code.event_ids:
            await self._connection.execute(
                insert(promo_code_events),
                [
                    {"promo_code_id": code.id, "event_id": event_id}
                    for event_id in code.event_ids
                ],
            )

    async def _write(self, statement: Insert | Update) -> int:
        try:
            async with self._connection.begin_nested():
                result = await self._connection.execute(statement)
        except IntegrityError as error:
            if _is_duplicate(error):
                raise DuplicatePromoCode from error
            raise
        return result.rowcount
