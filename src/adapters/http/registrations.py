"""Registering for events, and an attendee's own registrations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import utc, utc_or_none
from adapters.http.identity import Body
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.identity.model import ClientInfo, Principal
from platform_core.registrations.service import RegistrationForm, RegistrationView
from platform_core.shared.pagination import Page, PageRequest

Answers = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="Answers keyed by custom field uuid: text, a number, a "
        "boolean for a checkbox, or a list of options for a multiple choice."
    ),
]


class RegisterRequest(Body):
    """A guest gives email and names; signed in, they come from the account."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    answers: Answers = msgspec.field(default_factory=dict)
    promo_code: str | None = None


class RegisteredEventResponse(msgspec.Struct, kw_only=True):
    """The event a registration is for; `status` is `cancelled` once it is."""

    uuid: UUID
    slug: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str


class RegistrationResponse(msgspec.Struct, kw_only=True):
    """A registration as its registrant sees it; money in minor units."""

    uuid: UUID
    status: str
    waitlist_position: int | None
    amount: int
    currency: str | None
    event: RegisteredEventResponse
    email: str
    first_name: str
    last_name: str
    answers: dict[str, Any]
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    hold_expires_at: datetime | None
    checkout_url: str | None = None

    @classmethod
    def of(cls, view: RegistrationView) -> RegistrationResponse:
        registration, event = view.registration, view.event
        return cls(
            uuid=registration.id,
            status=registration.status.value,
            waitlist_position=view.waitlist_position,
            amount=registration.amount,
            currency=registration.currency,
            event=RegisteredEventResponse(
                uuid=event.id,
                slug=event.slug,
                title=event.title,
                starts_at=utc(event.starts_at),
                ends_at=utc(event.ends_at),
                timezone=event.timezone,
                status=event.status.value,
            ),
            email=registration.email,
            first_name=registration.first_name,
            last_name=registration.last_name,
            answers=registration.answers,
            created_at=utc(registration.created_at),
            confirmed_at=utc_or_none(registration.confirmed_at),
            cancelled_at=utc_or_none(registration.cancelled_at),
            hold_expires_at=utc_or_none(registration.hold_expires_at),
            checkout_url=view.checkout_url,
        )


class PaymentCheckResponse(msgspec.Struct, kw_only=True):
    """What anyone holding a registration's id learns: its state, no person."""

    uuid: UUID
    status: str
    waitlist_position: int | None
    amount: int
    currency: str | None
    event: RegisteredEventResponse
    confirmed_at: datetime | None
    hold_expires_at: datetime | None

    @classmethod
    def of(cls, view: RegistrationView) -> PaymentCheckResponse:
        full = RegistrationResponse.of(view)
        return cls(
            uuid=full.uuid,
            status=full.status,
            waitlist_position=full.waitlist_position,
            amount=full.amount,
            currency=full.currency,
            event=full.event,
            confirmed_at=full.confirmed_at,
            hold_expires_at=full.hold_expires_at,
        )


class RegistrationListResponse(msgspec.Struct, kw_only=True):
    count: int
    page: int
    page_size: int
    results: list[RegistrationResponse]

    @classmethod
    def of(cls, page: Page[RegistrationView]) -> RegistrationListResponse:
        return cls(
            count=page.total,
            page=page.request.page,
            page_size=page.request.page_size,
            results=[RegistrationResponse.of(view) for view in page.items],
        )


async def provide_optional_principal(
    request: Request[Any, Any, Any], platform: NamedDependency[Platform]
) -> Principal | None:
    """The caller when a bearer token is sent (a bad one is refused), else None."""
    if not request.headers.get("authorization", "").strip():
        return None
    return await provide_principal(request, platform)


class RegisterController(Controller):
    path = "/api/v1/public/events"
    tags = ["registrations"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_optional_principal)}

    @post(
        "/{event_id:str}/register/",
        status_code=HTTP_201_CREATED,
        summary="Register for a published event, as a guest or signed in",
        description="The event by uuid or slug. A free seat is `confirmed` at "
        "once; a paid one is `pending_payment` with a `checkout_url` (the local "
        "payments mode completes at once); a full event with a waitlist gives "
        "`waitlisted` and a `waitlist_position`. Refusals: 409 "
        "`registration_closed` (with `reason`), `already_registered`, "
        "`event_full`; 400 for invalid fields, answers or promo code; 429 "
        "`throttled` with a promo code, from a client that named too many "
        "unknown codes; 403 `quota_exceeded` once the event has as many "
        "registrations (waitlist included) as its organizer's plan allows "
        "(`registrations_per_event`).",
        responses=problems(400, 401, 403, 404, 409, 429, 503),
        security=[{}, *SECURITY],
    )
    async def register(
        self,
        event_id: FromPath[str],
        data: JSONBody[RegisterRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal | None],
        client: NamedDependency[ClientInfo],
    ) -> RegistrationResponse:
        view = await platform.registrations.register(
            principal,
            event_id,
            RegistrationForm(
                email=data.email,
                first_name=data.first_name,
                last_name=data.last_name,
                answers=data.answers,
                promo_code=data.promo_code,
            ),
            client,
        )
        return RegistrationResponse.of(view)


class MyRegistrationController(Controller):
    path = "/api/v1/registrations"
    tags = ["registrations"]
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/",
        summary="My registrations, newest first",
        description="Registrations made signed in, and those made as a guest "
        "with my verified email.",
        responses=problems(400, 401),
        security=SECURITY,
        dependencies={"principal": Provide(provide_principal)},
    )
    async def list_mine(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> RegistrationListResponse:
        found = await platform.registrations.my_registrations(
            principal, PageRequest(page=page, page_size=page_size)
        )
        return RegistrationListResponse.of(found)

    @post(
        "/{uuid:uuid}/cancel/",
        status_code=HTTP_200_OK,
        summary="Cancel my registration before the event starts",
        description="The seat goes to the next in line. Cancelling again "
        "changes nothing; after the start it is a 409 `event_started`.",
        responses=problems(401, 404, 409),
        security=SECURITY,
        dependencies={"principal": Provide(provide_principal)},
    )
    async def cancel(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> RegistrationResponse:
        view = await platform.registrations.cancel(principal, uuid, client)
        return RegistrationResponse.of(view)

    @post(
        "/{uuid:uuid}/confirm-payment/",
        status_code=HTTP_200_OK,
        summary="Check a registration's payment and confirm it once paid",
        description="Called when the registrant returns from the checkout, "
        "signed in or not; the payment provider is asked, so calling it early or "
        "twice is harmless. It answers the registration's state only, never the "
        "registrant's email, names or answers.",
        responses=problems(404, 503),
    )
    async def confirm_payment(
        self, uuid: FromPath[UUID], platform: NamedDependency[Platform]
    ) -> PaymentCheckResponse:
        view = await platform.registrations.confirm_payment(uuid)
        return PaymentCheckResponse.of(view)
