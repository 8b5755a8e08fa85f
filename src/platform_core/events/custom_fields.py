"""Use cases of an event's custom registration fields."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Mails
from platform_core.billing.model import Capability
from platform_core.events.fields import (
    FIELDS_PER_EVENT_MAX,
    ORDER_MAX,
    Answer,
    CustomField,
    FieldType,
    RequiredIf,
    check_rules,
    validate_answers,
)
from platform_core.events.model import Event
from platform_core.events.ports import RegistrationCounts
from platform_core.events.service import hold_own_event, own_event
from platform_core.identity.model import ClientInfo, Principal
from platform_core.outbox.ports import MessageDispatcher
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    Conflict,
    FieldErrors,
    NotFound,
    refuse_read_only,
)
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

EDITABLE = frozenset(
    {"label", "field_type", "required", "help_text", "options", "order", "required_if"}
)
"""Attributes of a custom field an organizer may change."""


@dataclass(frozen=True, slots=True)
class CustomFieldInput:
    """What an organizer gives to add a field; `order` None puts it last."""

    label: str
    field_type: FieldType
    required: bool = False
    help_text: str = ""
    options: Sequence[str] = ()
    order: int | None = None
    required_if: RequiredIf | None = None


class FieldRemoval(enum.StrEnum):
    DELETED = "deleted"
    ARCHIVED = "archived"


class CustomFieldService:
    """An organizer's registration form, and the check of answers to it."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        registrations: RegistrationCounts,
        entitlements: Entitlements,
        dispatcher: MessageDispatcher,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._registrations = registrations
        self._entitlements = entitlements
        self._dispatcher = dispatcher

    async def list_fields(
        self, actor: Principal, event_id: UUID, *, include_archived: bool = False
    ) -> Sequence[CustomField]:
        """The fields of the caller's event, in their order."""
        async with self._uow() as uow:
            await own_event(uow, actor, event_id)
            return await uow.custom_fields.list_for_event(
                event_id, include_archived=include_archived
            )

    async def get_field(
        self, actor: Principal, event_id: UUID, field_id: UUID
    ) -> CustomField:
        async with self._uow() as uow:
            _, item = await self._own_field(uow, actor, event_id, field_id)
        return item

    async def add_field(
        self,
        actor: Principal,
        event_id: UUID,
        data: CustomFieldInput,
        client: ClientInfo | None = None,
    ) -> CustomField:
        """Add a field to the caller's event, last unless `order` says otherwise."""
        mails = Mails()
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id)
            await self._may_shape_forms(uow, actor, mails)
            existing = await uow.custom_fields.list_for_event(event.id)
            if len(existing) >= FIELDS_PER_EVENT_MAX:
                raise Conflict(
                    f"An event has at most {FIELDS_PER_EVENT_MAX} active fields.",
                    code="too_many_fields",
                    limit=FIELDS_PER_EVENT_MAX,
                )
            order = data.order
            if order is None:
                order = min(max((f.order + 1 for f in existing), default=0), ORDER_MAX)
            item = CustomField(
                event_id=event.id,
                label=data.label.strip(),
                field_type=data.field_type,
                created_at=self._clock.now(),
                required=data.required,
                help_text=data.help_text.strip(),
                options=_options(data.options),
                order=order,
                required_if=data.required_if,
            )
            item.check()
            _check_rules([*existing, item], item)
            await uow.custom_fields.add(item)
            await self._audit(uow, "events.custom_field.created", actor, item, client)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        log.info(
            "events.custom_field.created", event_id=str(event.id), field_id=str(item.id)
        )
        return item

    async def update_field(
        self,
        actor: Principal,
        event_id: UUID,
        field_id: UUID,
        changes: Mapping[str, Any],
        client: ClientInfo | None = None,
    ) -> CustomField:
        """Change a field; its type and options stay put once people answered it."""
        refuse_read_only(changes, EDITABLE)
        values = dict(changes)
        for name in ("label", "help_text"):
            if isinstance(values.get(name), str):
                values[name] = values[name].strip()
        if "options" in values:
            values["options"] = _options(values["options"])
        mails = Mails()
        async with self._uow() as uow:
            event, item = await self._own_field(
                uow, actor, event_id, field_id, hold=True
            )
            await self._may_shape_forms(uow, actor, mails)
            if item.is_archived:
                raise Conflict(
                    "An archived field cannot be changed.",
                    code="field_archived",
                    field_id=str(item.id),
                )
            changed = replace(item, **values, updated_at=self._clock.now())
            changed.check()
            removed = set(item.options) - set(changed.options)
            if (
                changed.field_type is not item.field_type or removed
            ) and await self._registrations.has_answers(uow, item.id):
                raise Conflict(
                    "People have answered this field, so its type stays and its "
                    "options may only grow; add a new field instead.",
                    code="field_has_answers",
                    field_id=str(item.id),
                )
            fields = await uow.custom_fields.list_for_event(event.id)
            _check_rules([changed if f.id == item.id else f for f in fields], changed)
            await uow.custom_fields.update(changed)
            await self._audit(
                uow,
                "events.custom_field.updated",
                actor,
                changed,
                client,
                fields=sorted(changes),
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return changed

    async def remove_field(
        self,
        actor: Principal,
        event_id: UUID,
        field_id: UUID,
        client: ClientInfo | None = None,
    ) -> FieldRemoval:
        """Delete a field nobody answered; archive one with answers, so none is lost.

        A field another active field's `required_if` names is refused. The
        event's seat lock, which every registration holds while it saves its
        answers, is taken first, so no answer can arrive between the look-up
        and the deletion.
        """
        async with self._uow() as uow:
            event, item = await self._own_field(
                uow, actor, event_id, field_id, hold=True, seats=True
            )
            fields = await uow.custom_fields.list_for_event(event.id)
            dependents = [
                f
                for f in fields
                if f.required_if is not None
                and f.required_if.field == item.id
                and f.id != item.id
            ]
            if dependents:
                raise Conflict(
                    f"{_labels(dependents)} depend(s) on this field's answer; "
                    "change their required_if first.",
                    code="field_has_dependents",
                    dependents=[str(f.id) for f in dependents],
                )
            if await self._registrations.has_answers(uow, item.id):
                if not item.is_archived:
                    item.archived_at = item.updated_at = self._clock.now()
                    await uow.custom_fields.update(item)
                    await self._audit(
                        uow, "events.custom_field.archived", actor, item, client
                    )
                    await uow.commit()
                    log.info(
                        "events.custom_field.archived",
                        event_id=str(event.id),
                        field_id=str(item.id),
                    )
                return FieldRemoval.ARCHIVED
            await uow.custom_fields.delete(item.id)
            await self._audit(uow, "events.custom_field.deleted", actor, item, client)
            await uow.commit()
        log.info(
            "events.custom_field.deleted",
            event_id=str(event.id),
            field_id=str(item.id),
        )
        return FieldRemoval.DELETED

    async def reorder_fields(
        self,
        actor: Principal,
        event_id: UUID,
        order: Sequence[UUID],
        client: ClientInfo | None = None,
    ) -> Sequence[CustomField]:
        """Number the active fields 0..n-1 as listed; every one exactly once."""
        mails = Mails()
        async with self._uow() as uow:
            event = await hold_own_event(uow, actor, event_id)
            await self._may_shape_forms(uow, actor, mails)
            active = {f.id: f for f in await uow.custom_fields.list_for_event(event.id)}
            errors = FieldErrors()
            seen: set[UUID] = set()
            for index, field_id in enumerate(order):
                if field_id not in active:
                    errors.add(
                        f"order.{index}",
                        "unknown_field",
                        "The event has no active field with this id.",
                    )
                elif field_id in seen:
                    errors.add(f"order.{index}", "duplicate", "Listed twice.")
                seen.add(field_id)
            missing = [f for f in active.values() if f.id not in seen]
            if missing:
                errors.add(
                    "order",
                    "missing_fields",
                    f"List every active field; missing: {_labels(missing)}.",
                )
            errors.raise_if_any("The new order is not valid.")
            now = self._clock.now()
            for position, field_id in enumerate(order):
                item = active[field_id]
                if item.order != position:
                    item.order, item.updated_at = position, now
                    await uow.custom_fields.update(item)
            await write_audit(
                uow.audit,
                "events.custom_field.reordered",
                at=now,
                actor_id=actor.user_id,
                target_type="event",
                target_id=event.id,
                client=client,
                fields=[str(field_id) for field_id in order],
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return [active[field_id] for field_id in order]

    async def _may_shape_forms(
        self, uow: UnitOfWork, actor: Principal, mails: Mails
    ) -> None:
        """Refuse `capability_missing` unless the caller's plan has custom fields;
        removing a field stays allowed, so a lapsed plan loses no answers."""
        await self._entitlements.require_in(
            uow, actor.user_id, Capability.CUSTOM_FIELDS, mails
        )

    async def validate_answers(
        self, event_id: UUID, answers: Mapping[str, object]
    ) -> dict[str, Answer]:
        """Check an answer set against the event's fields; the normalized answers."""
        async with self._uow() as uow:
            return await self.validate_answers_in(uow, event_id, answers)

    @staticmethod
    async def validate_answers_in(
        uow: UnitOfWork, event_id: UUID, answers: Mapping[str, object]
    ) -> dict[str, Answer]:
        """`validate_answers` inside the caller's unit of work."""
        fields = await uow.custom_fields.list_for_event(event_id, include_archived=True)
        return validate_answers(fields, answers)

    @staticmethod
    async def _own_field(
        uow: UnitOfWork,
        actor: Principal,
        event_id: UUID,
        field_id: UUID,
        *,
        hold: bool = False,
        seats: bool = False,
    ) -> tuple[Event, CustomField]:
        """The field of the caller's event; with `hold`, the event row is held
        so the event's fields change one transaction at a time, and with
        `seats` its seat counter first (see `hold_own_event`)."""
        event = await (
            hold_own_event(uow, actor, event_id, seats=seats)
            if hold
            else own_event(uow, actor, event_id)
        )
        item = await uow.custom_fields.get(field_id)
        if item is None or item.event_id != event.id:
            raise NotFound(
                "The event has no custom field with this id.", resource="custom_field"
            )
        return event, item

    async def _audit(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Principal,
        item: CustomField,
        client: ClientInfo | None,
        **details: Any,
    ) -> None:
        await write_audit(
            uow.audit,
            action,
            at=self._clock.now(),
            actor_id=actor.user_id,
            target_type="custom_field",
            target_id=item.id,
            client=client,
            event_id=str(item.event_id),
            **details,
        )


def _options(options: Iterable[str]) -> tuple[str, ...]:
    return tuple(option.strip() for option in options)


def _labels(fields: Iterable[CustomField]) -> str:
    return ", ".join(repr(f.label) for f in fields)


def _check_rules(fields: Sequence[CustomField], changed: CustomField) -> None:
    """Refuse a broken `required_if` on `changed`, or one it breaks on others."""
    broken = check_rules(fields)
    own = broken.pop(changed.id, None)
    if own is not None:
        errors = FieldErrors()
        errors.add(*own)
        errors.raise_if_any("The custom field is not valid.")
    if broken:
        dependents = [f for f in fields if f.id in broken]
        raise Conflict(
            f"{_labels(dependents)} depend(s) on this field's answer and would no "
            "longer make sense; change their required_if first.",
            code="field_has_dependents",
            dependents=[str(f.id) for f in dependents],
        )
