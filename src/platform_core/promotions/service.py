"""Use cases of promo codes: an organizer's codes, price quotes and counted uses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Mails
from platform_core.billing.model import Capability
from platform_core.events.model import Event, EventStatus
from platform_core.identity.model import ClientInfo, Principal, normalize_email
from platform_core.outbox.ports import MessageDispatcher
from platform_core.promotions.model import (
    DiscountType,
    PromoCode,
    PromoCodeFilter,
    Quote,
    Refusal,
    code_key,
    discount_for,
    end_of_day,
    start_of_day,
)
from platform_core.promotions.ports import DuplicatePromoCode, GuessThrottle
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    FieldError,
    FieldErrors,
    NotFound,
    ValidationFailed,
    refuse_read_only,
)
from platform_core.shared.pagination import Page, PageRequest
from platform_core.shared.throttling import refuse_if_held
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

DEFAULT_TIMEZONE = "UTC"
"""The zone of date-only validity bounds when the organizer has no profile yet."""

EDITABLE = frozenset(
    {
        "code",
        "discount_type",
        "amount",
        "events",
        "valid_from",
        "valid_until",
        "max_uses",
        "max_uses_per_email",
        "is_active",
    }
)
"""Fields of a promo code an organizer sets directly; uses are only counted."""

Bound = datetime | date
"""A validity bound: an instant, or a day in the organizer's time zone."""

_SLUG_SHAPE = re.compile(r"^[a-z0-9-]{1,80}$")


@dataclass(frozen=True, slots=True)
class PromoCodeInput:
    """What an organizer gives to create a code; empty `events` means all."""

    code: str
    discount_type: DiscountType
    amount: Decimal
    events: tuple[UUID, ...] = ()
    valid_from: Bound | None = None
    valid_until: Bound | None = None
    max_uses: int | None = None
    max_uses_per_email: int | None = None
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class AppliedCode:
    """A code applied to one registration: the price it made, and the code's id
    when one of its uses was taken (none on a free event, where it changes
    nothing)."""

    code_id: UUID | None
    quote: Quote


def list_quote(event: Event) -> Quote:
    """The event's price without any code."""
    return Quote(list_price=event.price, discount=0, currency=event.currency)


def refused(reason: Refusal) -> ValidationFailed:
    """The refusal of a code, as a validation error naming `promo_code`."""
    return ValidationFailed(
        reason.message,
        code=reason.value,
        errors=[FieldError("promo_code", reason.value, reason.message)],
    )


class PromotionService:
    """An organizer's promo codes, and applying them to an event's price."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        entitlements: Entitlements,
        dispatcher: MessageDispatcher,
        guesses: GuessThrottle,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._entitlements = entitlements
        self._dispatcher = dispatcher
        self._guesses = guesses

    # -- an organizer's codes ----------------------------------------------

    async def create_promo_code(
        self,
        actor: Principal,
        data: PromoCodeInput,
        client: ClientInfo | None = None,
    ) -> PromoCode:
        """Create a code, unique per organizer whatever its letter case."""
        mails = Mails()
        async with self._uow() as uow:
            await self._entitlements.require_in(
                uow, actor.user_id, Capability.PROMO_CODES, mails
            )
            zone = await self._zone(uow, actor.user_id)
            events = await self._own_events(uow, actor, data.events)
            item = PromoCode(
                organizer_id=actor.user_id,
                code=data.code.strip(),
                discount_type=data.discount_type,
                amount=data.amount,
                created_at=self._clock.now(),
                all_events=not events,
                event_ids=events,
                valid_from=_bound(data.valid_from, zone, end=False),
                valid_until=_bound(data.valid_until, zone, end=True),
                max_uses=data.max_uses,
                max_uses_per_email=data.max_uses_per_email,
                is_active=data.is_active,
            )
            item.check()
            await self._refuse_taken(uow, item)
            try:
                await uow.promo_codes.add(item)
            except DuplicatePromoCode as error:
                raise _taken() from error
            await self._audit(uow, "promotions.promo_code.created", actor, item, client)
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        log.info(
            "promotions.promo_code.created",
            promo_code_id=str(item.id),
            organizer_id=str(actor.user_id),
        )
        return item

    async def list_promo_codes(
        self, actor: Principal, criteria: PromoCodeFilter, page: PageRequest
    ) -> Page[PromoCode]:
        """The caller's codes, newest first."""
        async with self._uow() as uow:
            items, total = await uow.promo_codes.list_for_organizer(
                actor.user_id, criteria, offset=page.offset, limit=page.page_size
            )
        return Page(items=items, total=total, request=page)

    async def get_promo_code(self, actor: Principal, code_id: UUID) -> PromoCode:
        async with self._uow() as uow:
            return await _own_code(uow, actor, code_id)

    async def update_promo_code(
        self,
        actor: Principal,
        code_id: UUID,
        changes: Mapping[str, Any],
        client: ClientInfo | None = None,
    ) -> PromoCode:
        """Change any editable field; the whole code must still be valid."""
        refuse_read_only(changes, EDITABLE)
        mails = Mails()
        async with self._uow() as uow:
            await self._entitlements.require_in(
                uow, actor.user_id, Capability.PROMO_CODES, mails
            )
            item = await _own_code(uow, actor, code_id)
            values = {k: v for k, v in changes.items() if k != "events"}
            if "code" in values:
                values["code"] = str(values["code"]).strip()
            if "valid_from" in values or "valid_until" in values:
                zone = await self._zone(uow, actor.user_id)
                for name in ("valid_from", "valid_until"):
                    if name in values:
                        values[name] = _bound(
                            values[name], zone, end=name == "valid_until"
                        )
            if "events" in changes:
                events = await self._own_events(uow, actor, changes["events"])
                values["event_ids"], values["all_events"] = events, not events
            changed = replace(item, **values, updated_at=self._clock.now())
            changed.check()
            if changed.key != item.key:
                await self._refuse_taken(uow, changed)
            try:
                await uow.promo_codes.update(changed)
            except DuplicatePromoCode as error:
                raise _taken() from error
            await self._audit(
                uow,
                "promotions.promo_code.updated",
                actor,
                changed,
                client,
                fields=sorted(changes),
            )
            await uow.commit()
        await self._dispatcher.dispatch(mails.ids)
        return changed

    async def deactivate_promo_code(
        self, actor: Principal, code_id: UUID, client: ClientInfo | None = None
    ) -> PromoCode:
        """Stop a code from being applied; its count of uses stays."""
        async with self._uow() as uow:
            item = await _own_code(uow, actor, code_id)
            if not item.is_active:
                return item
            item.is_active = False
            item.updated_at = self._clock.now()
            await uow.promo_codes.update(item)
            await self._audit(
                uow, "promotions.promo_code.deactivated", actor, item, client
            )
            await uow.commit()
        log.info("promotions.promo_code.deactivated", promo_code_id=str(item.id))
        return item

    # -- applying codes ----------------------------------------------------

    async def preview_price(
        self, identifier: str, code: str | None, client: ClientInfo | None = None
    ) -> Quote:
        """The price of a published event (uuid or slug) with a code, not using it.

        The same refusals as at registration, but a per-email limit is only
        checked when registering, since the preview knows no email.
        """
        async with self.guessing(code, client), self._uow() as uow:
            event = await _published_event(uow, identifier)
            if code is None or not code.strip():
                return list_quote(event)
            found = await self._usable(uow, event, code)
        return _quote(found, event)

    @asynccontextmanager
    async def guessing(
        self, code: str | None, client: ClientInfo | None
    ) -> AsyncIterator[None]:
        """Around a use of `code`: refuse a client that named too many unknown
        codes, and count this one if it turns out unknown."""
        address = client.address if client is not None else None
        if code is None or not code.strip() or not address:
            yield
            return
        refuse_if_held(
            await self._guesses.blocked(address=address),
            event="promotions.promo_code.guessing_throttled",
            message="Too many unknown promo codes from this address; try again later.",
            client_address=address,
        )
        try:
            yield
        except ValidationFailed as error:
            if error.code == Refusal.UNKNOWN.value:
                await self._guesses.missed(address=address)
            raise

    async def quote_in(self, uow: UnitOfWork, event: Event, code: str) -> Quote:
        """The event's price with `code`, refused as at registration, not using it."""
        return _quote(await self._usable(uow, event, code), event)

    async def apply_in(
        self, uow: UnitOfWork, event: Event, code: str, email: str
    ) -> AppliedCode:
        """Use one of the code's uses for a registration with `email` to `event`.

        Call it in the registration's unit of work before the registration is
        added. The use is one conditional update, so with one use left and
        any number of concurrent registrants exactly one gets it; the
        per-email count is read after that update, which holds the code's
        row until commit on PostgreSQL and the write lock on SQLite. A refusal
        is a ValidationFailed on `promo_code` whose code says why; nothing
        stays used then.

        On a free event the code is refused for the same reasons as the price
        preview gives, but a discount on nothing takes no use: the answer has
        no `code_id`, so the registration records no code to give back.
        """
        found = await self._usable(uow, event, code)
        if event.price == 0:
            return AppliedCode(code_id=None, quote=list_quote(event))
        if not await uow.promo_codes.use(found.id):
            current = await uow.promo_codes.get(found.id)
            inactive = current is None or not current.is_active
            raise refused(Refusal.INACTIVE if inactive else Refusal.USED_UP)
        if found.max_uses_per_email is not None:
            uses = await uow.registrations.count_promo_uses(
                found.id, normalize_email(email)
            )
            if uses >= found.max_uses_per_email:
                await uow.promo_codes.give_back(found.id)
                raise refused(Refusal.USED_UP)
        log.info(
            "promotions.promo_code.used",
            promo_code_id=str(found.id),
            event_id=str(event.id),
        )
        return AppliedCode(code_id=found.id, quote=_quote(found, event))

    async def _usable(self, uow: UnitOfWork, event: Event, code: str) -> PromoCode:
        found = await uow.promo_codes.get_by_key(event.organizer_id, code_key(code))
        if found is None:
            raise refused(Refusal.UNKNOWN)
        reason = found.refusal(event.id, self._clock.now())
        if reason is not None:
            raise refused(reason)
        return found

    # -- helpers -----------------------------------------------------------

    @staticmethod
    async def _zone(uow: UnitOfWork, organizer_id: UUID) -> str:
        profile = await uow.organizer_profiles.get(organizer_id)
        return DEFAULT_TIMEZONE if profile is None else profile.timezone

    @staticmethod
    async def _own_events(
        uow: UnitOfWork, actor: Principal, event_ids: Iterable[UUID]
    ) -> tuple[UUID, ...]:
        """The ids, each once, if every one is an event of the caller."""
        wanted = tuple(dict.fromkeys(event_ids))
        for event_id in wanted:
            event = await uow.events.get(event_id)
            if event is None or event.organizer_id != actor.user_id:
                errors = FieldErrors()
                errors.add(
                    "events",
                    "unknown_event",
                    f"You have no event with the id {event_id}.",
                )
                errors.raise_if_any("The promo code is not valid.")
        return wanted

    @staticmethod
    async def _refuse_taken(uow: UnitOfWork, item: PromoCode) -> None:
        holder = await uow.promo_codes.get_by_key(item.organizer_id, item.key)
        if holder is not None and holder.id != item.id:
            raise _taken()

    async def _audit(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Principal,
        item: PromoCode,
        client: ClientInfo | None,
        **details: Any,
    ) -> None:
        await write_audit(
            uow.audit,
            action,
            at=self._clock.now(),
            actor_id=actor.user_id,
            target_type="promo_code",
            target_id=item.id,
            client=client,
            code=item.code,
            **details,
        )


async def _own_code(uow: UnitOfWork, actor: Principal, code_id: UUID) -> PromoCode:
    """The caller's code; anyone else's is not found, never forbidden."""
    item = await uow.promo_codes.get(code_id)
    if item is None or item.organizer_id != actor.user_id:
        raise NotFound("You have no promo code with this id.", resource="promo_code")
    return item


async def _published_event(uow: UnitOfWork, identifier: str) -> Event:
    """A published (or cancelled) event by uuid or slug; drafts are not found."""
    try:
        event = await uow.events.get(UUID(identifier))
    except ValueError:
        slug = identifier.lower()
        event = await uow.events.get_by_slug(slug) if _SLUG_SHAPE.match(slug) else None
    if event is None or event.status is EventStatus.DRAFT:
        raise NotFound("No published event has this identifier.", resource="event")
    return event


def _quote(code: PromoCode, event: Event) -> Quote:
    return Quote(
        list_price=event.price,
        discount=discount_for(code, event.price),
        currency=event.currency,
    )


def _bound(value: Bound | None, zone: str, *, end: bool) -> datetime | None:
    """An instant as given; a day starts (or ends) on the organizer's wall clock."""
    if value is None or isinstance(value, datetime):
        return value
    return end_of_day(value, zone) if end else start_of_day(value, zone)


def _taken() -> ValidationFailed:
    return ValidationFailed(
        "The promo code is not valid.",
        errors=[
            FieldError(
                "code",
                "taken",
                "You already have a code like this one (letter case is ignored).",
            )
        ],
    )


async def give_back_in(uow: UnitOfWork, code_id: UUID) -> bool:
    """Return the use a cancelled registration took, in its transaction.

    Never below zero: giving back twice returns false the second time.
    """
    returned = await uow.promo_codes.give_back(code_id)
    if returned:
        log.info("promotions.promo_code.given_back", promo_code_id=str(code_id))
    return returned
