"""Organizer endpoints for the custom registration fields of an event."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import ReadOnly, given_fields, utc, utc_or_none
from adapters.http.identity import Body
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.events.custom_fields import CustomFieldInput
from platform_core.events.fields import (
    FIELDS_PER_EVENT_MAX,
    CustomField,
    FieldType,
    RequiredIf,
)
from platform_core.identity.model import ClientInfo, Principal

Equals = Annotated[
    str | int | float | bool,
    msgspec.Meta(
        description="The answer of the other field that makes this one required; "
        "for a multiple-choice field, one of the options it must contain."
    ),
]


class RequiredIfBody(Body):
    field: Annotated[
        UUID, msgspec.Meta(description="Another active field of the same event.")
    ]
    equals: Equals


class RequiredIfResponse(msgspec.Struct):
    field: UUID
    equals: Equals


def _rule(body: RequiredIfBody | None) -> RequiredIf | None:
    return None if body is None else RequiredIf(body.field, body.equals)


def _rule_response(rule: RequiredIf | None) -> RequiredIfResponse | None:
    return None if rule is None else RequiredIfResponse(rule.field, rule.equals)


class PublicCustomFieldResponse(msgspec.Struct, kw_only=True):
    """A question of the registration form, as anyone may see it."""

    uuid: UUID
    label: str
    field_type: FieldType
    required: bool
    help_text: str
    options: list[str]
    order: int
    required_if: RequiredIfResponse | None

    @classmethod
    def of(cls, item: CustomField) -> PublicCustomFieldResponse:
        return cls(
            uuid=item.id,
            label=item.label,
            field_type=item.field_type,
            required=item.required,
            help_text=item.help_text,
            options=list(item.options),
            order=item.order,
            required_if=_rule_response(item.required_if),
        )


class CustomFieldResponse(PublicCustomFieldResponse, kw_only=True):
    """A custom field of my event; archived ones keep their answers."""

    is_archived: bool
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, item: CustomField) -> CustomFieldResponse:
        return cls(
            uuid=item.id,
            label=item.label,
            field_type=item.field_type,
            required=item.required,
            help_text=item.help_text,
            options=list(item.options),
            order=item.order,
            required_if=_rule_response(item.required_if),
            is_archived=item.is_archived,
            archived_at=utc_or_none(item.archived_at),
            created_at=utc(item.created_at),
            updated_at=utc_or_none(item.updated_at),
        )


class CustomFieldCreateRequest(Body):
    """A new field; `options` only for the choice types, `order` last when left out."""

    label: str
    field_type: FieldType
    required: bool = False
    help_text: str = ""
    options: list[str] = msgspec.field(default_factory=list)
    order: int | None = None
    required_if: RequiredIfBody | None = None


class CustomFieldUpdateRequest(Body):
    """Any subset of the editable attributes; `required_if` null clears it."""

    label: str | msgspec.UnsetType = msgspec.UNSET
    field_type: FieldType | msgspec.UnsetType = msgspec.UNSET
    required: bool | msgspec.UnsetType = msgspec.UNSET
    help_text: str | msgspec.UnsetType = msgspec.UNSET
    options: list[str] | msgspec.UnsetType = msgspec.UNSET
    order: int | msgspec.UnsetType = msgspec.UNSET
    required_if: RequiredIfBody | msgspec.UnsetType | None = msgspec.UNSET
    uuid: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    is_archived: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    archived_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    created_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    updated_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET


class ReorderRequest(Body):
    order: Annotated[
        list[UUID],
        msgspec.Meta(
            max_length=FIELDS_PER_EVENT_MAX,
            description="Every active field of the event, each once, in the new order.",
        ),
    ]


class CustomFieldController(Controller):
    path = "/api/v1/events/{event_uuid:uuid}/custom-fields"
    tags = ["events"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/",
        summary="The registration fields of my event, in their order",
        description="Archived fields are left out unless `include_archived` is true.",
        responses=problems(400, 401, 404),
    )
    async def list_fields(
        self,
        event_uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        include_archived: FromQuery[bool] = False,
    ) -> list[CustomFieldResponse]:
        found = await platform.custom_fields.list_fields(
            principal, event_uuid, include_archived=include_archived
        )
        return [CustomFieldResponse.of(item) for item in found]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Add a registration field, last unless `order` is given",
        responses=problems(400, 401, 403, 404, 409),
    )
    async def add_field(
        self,
        event_uuid: FromPath[UUID],
        data: JSONBody[CustomFieldCreateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> CustomFieldResponse:
        item = await platform.custom_fields.add_field(
            principal,
            event_uuid,
            CustomFieldInput(
                label=data.label,
                field_type=data.field_type,
                required=data.required,
                help_text=data.help_text,
                options=data.options,
                order=data.order,
                required_if=_rule(data.required_if),
            ),
            client=client,
        )
        return CustomFieldResponse.of(item)

    @post(
        "/reorder/",
        status_code=HTTP_200_OK,
        summary="Put the active fields in a new order, numbered from 0",
        responses=problems(400, 401, 403, 404),
    )
    async def reorder_fields(
        self,
        event_uuid: FromPath[UUID],
        data: JSONBody[ReorderRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> list[CustomFieldResponse]:
        found = await platform.custom_fields.reorder_fields(
            principal, event_uuid, data.order, client=client
        )
        return [CustomFieldResponse.of(item) for item in found]

    @get(
        "/{uuid:uuid}/", summary="One registration field", responses=problems(401, 404)
    )
    async def get_field(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> CustomFieldResponse:
        item = await platform.custom_fields.get_field(principal, event_uuid, uuid)
        return CustomFieldResponse.of(item)

    @patch(
        "/{uuid:uuid}/",
        summary="Change a registration field",
        description=(
            "Once people have answered a field its `field_type` cannot change and "
            "its `options` may only grow (409 `field_has_answers`); a change that "
            "would break another field's `required_if` is refused (409 "
            "`field_has_dependents`); an archived field cannot change (409 "
            "`field_archived`)."
        ),
        responses=problems(400, 401, 403, 404, 409),
    )
    async def update_field(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        data: JSONBody[CustomFieldUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> CustomFieldResponse:
        changes = given_fields(data)
        if "required_if" in changes:
            changes["required_if"] = _rule(changes["required_if"])
        item = await platform.custom_fields.update_field(
            principal, event_uuid, uuid, changes, client=client
        )
        return CustomFieldResponse.of(item)

    @delete(
        "/{uuid:uuid}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Remove a registration field, or archive it if it has answers",
        description=(
            "A field nobody answered is deleted. A field with answers is archived "
            "instead, so no answer is lost: it leaves the form and the list, and "
            "shows with `include_archived=true`. Either way the answer is 204. A "
            "field another field's `required_if` names is refused (409 "
            "`field_has_dependents`, with their uuids in `dependents`)."
        ),
        responses=problems(401, 404, 409),
    )
    async def remove_field(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> None:
        await platform.custom_fields.remove_field(
            principal, event_uuid, uuid, client=client
        )
