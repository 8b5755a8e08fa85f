"""Promo code endpoints: an organizer's codes and the public price preview."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import given_fields, utc, utc_or_none
from adapters.http.identity import Body
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.identity.model import ClientInfo, Principal
from platform_core.promotions.model import (
    DiscountType,
    PromoCode,
    PromoCodeFilter,
    Quote,
)
from platform_core.promotions.service import Bound, PromoCodeInput
from platform_core.shared.errors import FieldErrors
from platform_core.shared.pagination import Page, PageRequest

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CENT = Decimal("0.01")

Amount = Annotated[
    Decimal,
    msgspec.Meta(
        description="For `percent`, a percentage from 0 to 100 with at most two "
        "decimals; for `fixed`, a whole number of minor units of the event's "
        "currency. Sent as a number or a decimal string, returned as a string "
        '("12.50", "500").'
    ),
]
BoundText = Annotated[
    str,
    msgspec.Meta(
        description="An ISO 8601 instant with an offset, or a date alone "
        "(YYYY-MM-DD): the start of that day for `valid_from`, its end "
        "(23:59:59.999999) for `valid_until`, in the organizer profile's "
        "`timezone`."
    ),
]
Uses = Annotated[
    int, msgspec.Meta(description="A positive number, or null for no limit.")
]
ReadOnly = Annotated[
    Any, msgspec.Meta(description="Read-only: sending it is refused (`read_only`).")
]


def bound(name: str, value: str | None) -> Bound | None:
    """A validity bound as given: an instant with an offset, or a date alone."""
    if value is None:
        return None
    text = value.strip()
    errors = FieldErrors()
    if _DAY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            errors.add(name, "invalid", "Not a calendar date.")
            errors.raise_if_any("The promo code is not valid.")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None:
        errors.add(
            name,
            "invalid",
            "Use ISO 8601 with an offset (2031-05-17T09:30:00+02:00) or a date "
            "(2031-05-17).",
        )
    elif moment.tzinfo is None or moment.utcoffset() is None:
        errors.add(
            name, "naive_time", "Give the time with an offset, such as +02:00 or Z."
        )
    errors.raise_if_any("The promo code is not valid.")
    return moment


def amount_text(code: PromoCode) -> str:
    """Two decimals for a percentage, a whole number of minor units otherwise."""
    if code.discount_type is DiscountType.PERCENT:
        return str(code.amount.quantize(_CENT))
    return str(int(code.amount))


class PromoCodeResponse(msgspec.Struct, kw_only=True):
    """One of my promo codes; instants in UTC. Empty `events` means all of mine."""

    uuid: UUID
    code: str
    discount_type: str
    amount: str
    events: list[UUID]
    valid_from: datetime | None
    valid_until: datetime | None
    max_uses: int | None
    max_uses_per_email: int | None
    is_active: bool
    times_used: int
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, code: PromoCode) -> PromoCodeResponse:
        return cls(
            uuid=code.id,
            code=code.code,
            discount_type=code.discount_type.value,
            amount=amount_text(code),
            events=list(code.event_ids),
            valid_from=utc_or_none(code.valid_from),
            valid_until=utc_or_none(code.valid_until),
            max_uses=code.max_uses,
            max_uses_per_email=code.max_uses_per_email,
            is_active=code.is_active,
            times_used=code.times_used,
            created_at=utc(code.created_at),
            updated_at=utc_or_none(code.updated_at),
        )


class PromoCodeListResponse(msgspec.Struct, kw_only=True):
    count: int
    page: int
    page_size: int
    results: list[PromoCodeResponse]

    @classmethod
    def of(cls, page: Page[PromoCode]) -> PromoCodeListResponse:
        return cls(
            count=page.total,
            page=page.request.page,
            page_size=page.request.page_size,
            results=[PromoCodeResponse.of(code) for code in page.items],
        )


class PromoCodeCreateRequest(Body):
    code: str
    discount_type: DiscountType
    amount: Amount
    events: list[UUID] = msgspec.field(default_factory=list)
    valid_from: BoundText | None = None
    valid_until: BoundText | None = None
    max_uses: Uses | None = None
    max_uses_per_email: Uses | None = None
    is_active: bool = True


class PromoCodeUpdateRequest(Body):
    """Any subset of the editable fields; the fields of a response are refused."""

    code: str | msgspec.UnsetType = msgspec.UNSET
    discount_type: DiscountType | msgspec.UnsetType = msgspec.UNSET
    amount: Amount | msgspec.UnsetType = msgspec.UNSET
    events: list[UUID] | msgspec.UnsetType = msgspec.UNSET
    valid_from: BoundText | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: BoundText | msgspec.UnsetType | None = msgspec.UNSET
    max_uses: Uses | msgspec.UnsetType | None = msgspec.UNSET
    max_uses_per_email: Uses | msgspec.UnsetType | None = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET
    uuid: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    times_used: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    created_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET
    updated_at: ReadOnly | msgspec.UnsetType = msgspec.UNSET


class PricePreviewRequest(Body):
    promo_code: str | None = None


class PricePreviewResponse(msgspec.Struct, kw_only=True):
    """Prices in minor units of `currency` (null for a free event)."""

    list_price: int
    discount: int
    final_price: int
    currency: str | None

    @classmethod
    def of(cls, quote: Quote) -> PricePreviewResponse:
        return cls(
            list_price=quote.list_price,
            discount=quote.discount,
            final_price=quote.final_price,
            currency=quote.currency,
        )


_REFUSALS = (
    "A code that cannot be applied is a 400 naming `promo_code` whose `code` "
    "says why: `promo_code_unknown`, `promo_code_inactive`, "
    "`promo_code_not_for_event`, `promo_code_not_yet_valid`, "
    "`promo_code_expired` or `promo_code_used_up`. A client that named too "
    "many unknown codes gets 429 `throttled` with `Retry-After` for a while."
)


class PromoCodeController(Controller):
    path = "/api/v1/promo-codes"
    tags = ["promo codes"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/",
        summary="My promo codes, newest first, filtered and paginated",
        description="`is_active` keeps active or inactive codes; `event` keeps "
        "the codes that apply to that event (those for all my events included).",
        responses=problems(400, 401),
    )
    async def list_codes(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        is_active: FromQuery[bool | None] = None,
        event: FromQuery[UUID | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> PromoCodeListResponse:
        found = await platform.promotions.list_promo_codes(
            principal,
            PromoCodeFilter(is_active=is_active, event_id=event),
            PageRequest(page=page, page_size=page_size),
        )
        return PromoCodeListResponse.of(found)

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Create a promo code",
        description="`code` is trimmed, 3 to 40 letters, digits, `-` or `_`, and "
        "unique among my codes whatever its letter case (400 `taken`). `events` "
        "are uuids of my own events (another's or an unknown one is a 400 on "
        "`events`); empty means all of my events. Without the `promo_codes` "
        "capability the answer is `capability_missing`.",
        responses=problems(400, 401, 403),
    )
    async def create_code(
        self,
        data: JSONBody[PromoCodeCreateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> PromoCodeResponse:
        draft = PromoCodeInput(
            code=data.code,
            discount_type=data.discount_type,
            amount=data.amount,
            events=tuple(data.events),
            valid_from=bound("valid_from", data.valid_from),
            valid_until=bound("valid_until", data.valid_until),
            max_uses=data.max_uses,
            max_uses_per_email=data.max_uses_per_email,
            is_active=data.is_active,
        )
        code = await platform.promotions.create_promo_code(principal, draft, client)
        return PromoCodeResponse.of(code)

    @get("/{uuid:uuid}/", summary="One of my promo codes", responses=problems(401, 404))
    async def get_code(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> PromoCodeResponse:
        return PromoCodeResponse.of(
            await platform.promotions.get_promo_code(principal, uuid)
        )

    @patch(
        "/{uuid:uuid}/",
        summary="Change any editable fields; the code must stay valid",
        description="`valid_from`, `valid_until`, `max_uses` and "
        "`max_uses_per_email` take null to clear; `events` replaces the list. "
        "`times_used` only moves by registrations.",
        responses=problems(400, 401, 403, 404),
    )
    async def update_code(
        self,
        uuid: FromPath[UUID],
        data: JSONBody[PromoCodeUpdateRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> PromoCodeResponse:
        changes = given_fields(data)
        for name in ("valid_from", "valid_until"):
            if name in changes:
                changes[name] = bound(name, changes[name])
        if "events" in changes:
            changes["events"] = tuple(changes["events"])
        code = await platform.promotions.update_promo_code(
            principal, uuid, changes, client
        )
        return PromoCodeResponse.of(code)

    @delete(
        "/{uuid:uuid}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Deactivate a promo code",
        description="The code is kept with its count of uses and `is_active` "
        "becomes false, so it is refused from now on (`promo_code_inactive`); "
        "PATCH `is_active` back to true to reactivate it. Deactivating twice "
        "changes nothing.",
        responses=problems(401, 404),
    )
    async def deactivate_code(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> None:
        await platform.promotions.deactivate_promo_code(principal, uuid, client)


class PricePreviewController(Controller):
    path = "/api/v1/public/events"
    tags = ["public"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/{event_id:str}/price-preview/",
        status_code=HTTP_200_OK,
        summary="The price of a published event with a promo code, without using it",
        description="The event by uuid or slug. Prices are in minor units of "
        "`currency`. Without `promo_code` (or with a blank one) the list price. "
        f"{_REFUSALS} A per-email limit is only checked when registering.",
        responses=problems(400, 404, 429),
    )
    async def preview_price(
        self,
        event_id: FromPath[str],
        data: JSONBody[PricePreviewRequest],
        platform: NamedDependency[Platform],
        client: NamedDependency[ClientInfo],
    ) -> PricePreviewResponse:
        quote = await platform.promotions.preview_price(
            event_id, data.promo_code, client
        )
        return PricePreviewResponse.of(quote)
