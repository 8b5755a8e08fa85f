"""Custom registration fields of events, in the `event_custom_fields` table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.persistence.tables import event_custom_fields
from platform_core.events.fields import CustomField, FieldType, RequiredIf

_table = event_custom_fields


def _values(item: CustomField) -> dict[str, Any]:
    rule = item.required_if
    return {
        "id": item.id,
        "event_id": item.event_id,
        "label": item.label,
        "field_type": item.field_type.value,
        "required": item.required,
        "help_text": item.help_text,
        "options": list(item.options),
        "position": item.order,
        "required_if": (
            None if rule is None else {"field": str(rule.field), "equals": rule.equals}
        ),
        "created_at": item.created_at,
        "archived_at": item.archived_at,
        "updated_at": item.updated_at,
    }


def _from_row(row: RowMapping) -> CustomField:
    rule = row["required_if"]
    return CustomField(
        id=row["id"],
        event_id=row["event_id"],
        label=row["label"],
        field_type=FieldType(row["field_type"]),
        required=row["required"],
        help_text=row["help_text"],
        options=tuple(str(option) for option in row["options"]),
        order=row["position"],
        required_if=(
            None if rule is None else RequiredIf(UUID(rule["field"]), rule["equals"])
        ),
        created_at=row["created_at"],
        archived_at=row["archived_at"],
        updated_at=row["updated_at"],
    )


class SqlCustomFieldRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, field: CustomField) -> None:
        await self._connection.execute(insert(_table).values(_values(field)))

    async def get(self, field_id: UUID) -> CustomField | None:
        result = await self._connection.execute(
            select(_table).where(_table.c.id == field_id)
        )
        row = result.mappings().one_or_none()
        return _from_row(row) if row else None

    async def update(self, field: CustomField) -> None:
        values = _values(field)
        del values["id"]
        result = await self._connection.execute(
            update(_table).where(_table.c.id == field.id).values(values)
        )
        if result.rowcount == 0:
            raise KeyError(field.id)

    async def delete(self, field_id: UUID) -> None:
        result = await self._connection.execute(
            delete(_table).where(_table.c.id == field_id)
        )
        if result.rowcount == 0:
            raise KeyError(field_id)

    async def list_for_event(
        self, event_id: UUID, *, include_archived: bool = False
    ) -> Sequence[CustomField]:
        statement = select(_table).where(_table.c.event_id == event_id)
        if not include_archived:
            statement = statement.where(_table.c.archived_at.is_(None))
        result = await self._connection.execute(
            statement.order_by(_table.c.position, _table.c.created_at, _table.c.id)
        )
        return [_from_row(row) for row in result.mappings()]
