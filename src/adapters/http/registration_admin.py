"""Organizer endpoints for the registrations and the waitlist of their events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import ReadOnly, given_fields, search_query, utc, utc_or_none
from adapters.http.identity import Body
from adapters.http.openapi import FieldProblem, problems
from platform_core import Platform
from platform_core.identity.model import ClientInfo, Principal
from platform_core.registrations.management import (
    BULK_MAX,
    NOTE_MAX,
    BulkOutcome,
    BulkRowResult,
    PersonInput,
    RegistrationRow,
)
from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationStatus,
)
from platform_core.shared.pagination import Page, PageRequest

CSV_MEDIA_TYPE = "text/csv"
"""Served with `; charset=utf-8`, which Litestar adds to every text type."""

BULK_BODY_MAX = 8 * 1024 * 1024
"""A thousand rows with their answers fit well within this."""

Answers = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="Answers keyed by custom field uuid, checked like a public "
        "registration's."
    ),
]


class RegistrationResponse(msgspec.Struct, kw_only=True):
    """A registration of my event; `amount` in minor units of `currency`."""

    uuid: UUID
    event: UUID
    status: RegistrationStatus
    email: str
    first_name: str
    last_name: str
    answers: dict[str, Any]
    amount: int
    currency: str | None
    promo_code: str | None
    waitlist_position: int | None
    offer_expires_at: datetime | None
    note: str
    source: str
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, row: RegistrationRow) -> RegistrationResponse:
        r = row.registration
        return cls(
            uuid=r.id,
            event=r.event_id,
            status=r.status,
            email=r.email,
            first_name=r.first_name,
            last_name=r.last_name,
            answers=dict(r.answers),
            amount=r.amount,
            currency=r.currency,
            promo_code=row.promo_code,
            waitlist_position=row.waitlist_position,
            offer_expires_at=utc_or_none(r.offer_expires_at),
            note=r.note,
            source=r.source.value,
            created_at=utc(r.created_at),
            confirmed_at=utc_or_none(r.confirmed_at),
            cancelled_at=utc_or_none(r.cancelled_at),
        )


class RegistrationListResponse(msgspec.Struct, kw_only=True):
    count: int
    page: int
    page_size: int
    results: list[RegistrationResponse]

    @classmethod
    def of(cls, page: Page[RegistrationRow]) -> RegistrationListResponse:
        return cls(
            count=page.total,
            page=page.request.page,
            page_size=page.request.page_size,
            results=[RegistrationResponse.of(row) for row in page.items],
        )


class OfferAcceptedResponse(msgspec.Struct, kw_only=True):
    """My registration after taking the seat offered to me."""

    uuid: UUID
    event: UUID
    status: RegistrationStatus
    amount: int
    currency: str | None
    hold_expires_at: datetime | None

    @classmethod
    def of(cls, registration: Registration) -> OfferAcceptedResponse:
        return cls(
            uuid=registration.id,
            event=registration.event_id,
            status=registration.status,
            amount=registration.amount,
            currency=registration.currency,
            hold_expires_at=utc_or_none(registration.hold_expires_at),
        )


class PersonBody(Body):
    """One person, as the public registration form takes them."""

    email: str
    first_name: str
    last_name: str
    answers: Answers = msgspec.field(default_factory=dict)
    promo_code: str | None = None


class BulkRequest(Body):
    registrations: Annotated[
        list[PersonBody],
        msgspec.Meta(description=f"At most {BULK_MAX} people."),
    ]
    ignore_capacity: Annotated[
        bool,
        msgspec.Meta(
            description="Seat every row even past the event's capacity; by "
            "default a full event puts rows on its waitlist, or refuses them "
            "as `event_full` without one."
        ),
    ] = False


class BulkRowResponse(msgspec.Struct, kw_only=True):
    """One row's fate: `added` (with `uuid`, `status`), `skipped` or `refused`."""

    index: int
    email: str
    outcome: BulkOutcome
    uuid: UUID | None = None
    status: RegistrationStatus | None = None
    code: str | None = None
    reason: str | None = None
    errors: list[FieldProblem] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, result: BulkRowResult) -> BulkRowResponse:
        registration = result.registration
        return cls(
            index=result.index,
            email=result.email,
            outcome=result.outcome,
            uuid=None if registration is None else registration.id,
            status=None if registration is None else registration.status,
            code=result.code,
            reason=result.reason,
            errors=[FieldProblem(e.field, e.code, e.message) for e in result.errors],
        )


class BulkResponse(msgspec.Struct, kw_only=True):
    added: int
    skipped: int
    refused: int
    results: list[BulkRowResponse]

    @classmethod
    def of(cls, results: list[BulkRowResult]) -> BulkResponse:
        def count(outcome: BulkOutcome) -> int:
            return sum(r.outcome is outcome for r in results)

        return cls(
            added=count(BulkOutcome.ADDED),
            skipped=count(BulkOutcome.SKIPPED),
            refused=count(BulkOutcome.REFUSED),
            results=[BulkRowResponse.of(r) for r in results],
        )


class RegistrationUpdateRequest(Body):
    """Any of `status`, `answers` and `note`; the other fields are refused."""

    status: RegistrationStatus | msgspec.UnsetType = msgspec.UNSET
    answers: Answers | msgspec.UnsetType = msgspec.UNSET
    note: (
        Annotated[
            str,
            msgspec.Meta(description=f"Internal, at most {NOTE_MAX} characters."),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    uuid: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    event: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    email: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    first_name: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    last_name: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    amount: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    currency: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    promo_code: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    waitlist_position: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    offer_expires_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    source: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    created_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    confirmed_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    cancelled_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET


class PromoteRequest(Body):
    ignore_capacity: Annotated[
        bool,
        msgspec.Meta(description="Promote even when no seat is free."),
    ] = False


def _person(body: PersonBody) -> PersonInput:
    return PersonInput(
        email=body.email,
        first_name=body.first_name,
        last_name=body.last_name,
        answers=body.answers,
        promo_code=body.promo_code,
    )


class RegistrationAdminController(Controller):
    path = "/api/v1/events/{event_uuid:uuid}/registrations"
    tags = ["registrations"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/",
        summary="The registrations of my event, oldest first, filtered and paginated",
        description=(
            "`status` keeps one status; `search` looks for a part of the first "
            "name, last name or email, ignoring case (`%` and `_` are literal). "
            "Another organizer's event is not found."
        ),
        responses=problems(400, 401, 404),
    )
    async def list_registrations(
        self,
        event_uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        status: FromQuery[RegistrationStatus | None] = None,
        search: FromQuery[str | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> RegistrationListResponse:
        criteria = RegistrationFilter(status=status, search=search_query(search))
        found = await platform.registration_admin.list_registrations(
            principal, event_uuid, criteria, PageRequest(page=page, page_size=page_size)
        )
        return RegistrationListResponse.of(found)

    @get(
        "/export.csv",
        summary="Every registration of my event as a CSV file",
        description=(
            "UTF-8 CSV with a header row: the registration's fields, then one "
            "column per custom field (archived ones too) headed by its label; "
            "multiple choices are joined by `; `. Cells that a spreadsheet "
            "would read as a formula (starting with `=`, `+`, `-`, `@`, a tab "
            "or a carriage return) are prefixed with `'`."
        ),
        media_type=CSV_MEDIA_TYPE,
        responses={
            200: ResponseSpec(
                data_container=str,
                description="A CSV file (RFC 4180)",
                media_type=CSV_MEDIA_TYPE,
                generate_examples=False,
            ),
            **problems(401, 404),
        },
    )
    async def export_registrations(
        self,
        event_uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> Response[bytes]:
        export = await platform.registration_admin.export_csv(principal, event_uuid)
        return Response(
            content=export.content,
            media_type=CSV_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename}"'
            },
        )

    @post(
        "/bulk/",
        status_code=HTTP_200_OK,
        summary=f"Add up to {BULK_MAX} people at once, confirmed without payment",
        description=(
            "The organizer adds these people, so nobody pays and no mail is "
            "sent. Each row is checked like a public registration and reported "
            "on its own: `added` with its `uuid` and `status` (`confirmed`, or "
            "`waitlisted` when the event is full), `skipped` when the email is "
            "already registered or came earlier in the request "
            "(`already_registered`, `duplicate_in_request`), or `refused` with "
            "its `code`, `reason` and field `errors` (a full event without a "
            "waitlist is `event_full`; past the plan's `registrations_per_event`, "
            "`quota_exceeded`). A refused row leaves nothing behind and "
            "refuses no other row. `ignore_capacity` seats everyone even past "
            "the capacity, never past the plan. "
            f"More than {BULK_MAX} rows is a 400 (`too_many`)."
        ),
        request_max_body_size=BULK_BODY_MAX,
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def bulk_add(
        self,
        event_uuid: FromPath[UUID],
        data: JSONBody[BulkRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> BulkResponse:
        results = await platform.registration_admin.bulk_add(
            principal,
            event_uuid,
            [_person(row) for row in data.registrations],
            ignore_capacity=data.ignore_capacity,
            client=client,
        )
        return BulkResponse.of(results)

    @get(
        "/waitlist/",
        summary="Everyone on my event's waitlist, next in line first",
        description="`waitlist_position` 1 is next; someone holding an offer "
        "(`offer_expires_at`) keeps their place until it is accepted or expires.",
        responses=problems(401, 404),
    )
    async def waitlist(
        self,
        event_uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> list[RegistrationResponse]:
        rows = await platform.registration_admin.waitlist(principal, event_uuid)
        return [RegistrationResponse.of(row) for row in rows]

    @post(
        "/waitlist/{uuid:uuid}/promote/",
        status_code=HTTP_200_OK,
        summary="Confirm someone on the waitlist now, taking a free seat",
        description=(
            "With no seat free the answer is 409 `no_seat_left`, unless "
            "`ignore_capacity` is true. Someone not waitlisted is 409 "
            "`not_waitlisted`. The body may be left out."
        ),
        responses=problems(400, 401, 404, 409),
    )
    async def promote(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
        data: JSONBody[PromoteRequest | None] = None,
    ) -> RegistrationResponse:
        row = await platform.registration_admin.promote(
            principal,
            event_uuid,
            uuid,
            ignore_capacity=data is not None and data.ignore_capacity,
            client=client,
        )
        return RegistrationResponse.of(row)

    @delete(
        "/waitlist/{uuid:uuid}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Take someone off the waitlist; their registration is cancelled",
        description="A seat they were offered passes to the next in line. "
        "Someone already cancelled changes nothing; someone holding a seat is "
        "409 `not_waitlisted` (cancel them instead).",
        responses=problems(401, 404, 409),
    )
    async def remove_from_waitlist(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> None:
        await platform.registration_admin.remove_from_waitlist(
            principal, event_uuid, uuid, client=client
        )

    @get(
        "/{uuid:uuid}/",
        summary="One registration of my event",
        responses=problems(401, 404),
    )
    async def get_registration(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> RegistrationResponse:
        row = await platform.registration_admin.get_registration(
            principal, event_uuid, uuid
        )
        return RegistrationResponse.of(row)

    @patch(
        "/{uuid:uuid}/",
        summary="Change a registration's status, answers or internal note",
        description=(
            "Allowed status moves: `pending_payment` to `confirmed` (marked "
            "paid) or `cancelled`; `confirmed` to `cancelled`; `waitlisted` to "
            "`confirmed` (promoted, needs a free seat: else `no_seat_left`) or "
            "`cancelled`. Any other is 409 `transition_not_allowed` with "
            "`from_status`, `to_status` and `allowed`. Answers are checked "
            "again against the event's fields."
        ),
        responses=problems(400, 401, 404, 409),
    )
    async def update_registration(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        data: JSONBody[RegistrationUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> RegistrationResponse:
        row = await platform.registration_admin.update_registration(
            principal, event_uuid, uuid, given_fields(data), client=client
        )
        return RegistrationResponse.of(row)

    @post(
        "/{uuid:uuid}/cancel/",
        status_code=HTTP_200_OK,
        summary="Cancel a registration; its seat goes to the waitlist",
        description=(
            "The freed seat goes to the first waitlisted registrant: promoted "
            "and mailed at once, or offered for the event's "
            "`waitlist_offer_hours`. Cancelling again answers the same "
            "registration and changes nothing."
        ),
        responses=problems(401, 404),
    )
    async def cancel_registration(
        self,
        event_uuid: FromPath[UUID],
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> RegistrationResponse:
        row = await platform.registration_admin.cancel_registration(
            principal, event_uuid, uuid, client=client
        )
        return RegistrationResponse.of(row)


class WaitlistOfferController(Controller):
    path = "/api/v1/registrations"
    tags = ["registrations"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @post(
        "/{uuid:uuid}/accept-offer/",
        status_code=HTTP_200_OK,
        summary="Take the seat the waitlist offered me",
        description=(
            "For the account that registered, or one whose verified email is "
            "the registration's. A free event confirms at once; a paid one "
            "holds the seat as `pending_payment` until `hold_expires_at`. "
            "Without a live offer the answer is 409 `no_offer` or "
            "`offer_expired`; accepting again answers the same registration."
        ),
        responses=problems(401, 404, 409),
    )
    async def accept_offer(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> OfferAcceptedResponse:
        registration = await platform.registration_admin.accept_offer(
            principal, uuid, client=client
        )
        return OfferAcceptedResponse.of(registration)
