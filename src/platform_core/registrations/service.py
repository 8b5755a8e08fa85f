"""Registering for events, paying for them, and an attendee's own registrations."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import structlog
from email_validator import EmailNotValidError, validate_email

from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Mails
from platform_core.billing.model import Limit
from platform_core.billing.ports import Payment, PaymentGateway, PaymentRequest
from platform_core.billing.service import JobSummary
from platform_core.events.custom_fields import CustomFieldService
from platform_core.events.model import Event, EventStatus
from platform_core.events.ports import CalendarRenderer, FollowUp
from platform_core.identity.model import (
    ClientInfo,
    Principal,
    has_control_characters,
    normalize_email,
)
from platform_core.outbox.ports import MessageDispatcher
from platform_core.outbox.service import enqueue_mail
from platform_core.promotions.model import Quote
from platform_core.registrations import mails
from platform_core.registrations.audit import audit_registration
from platform_core.registrations.handover import AfterCommit, SeatHandover
from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationSource,
    RegistrationStatus,
)
from platform_core.registrations.ports import DuplicateRegistration
from platform_core.registrations.seats import place
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    NotFound,
)
from platform_core.shared.pagination import Page, PageRequest
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

NAME_MAX = 150
EXPIRY_BATCH = 100
NOTICE_BATCH = 500
_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class RegistrationClosed(Conflict):
    default_code = "registration_closed"


class AlreadyRegistered(Conflict):
    default_code = "already_registered"


class TooLateToCancel(Conflict):
    default_code = "event_started"


class PromoCodes(Protocol):
    """The promotions context as registering needs it, inside one transaction."""

    async def apply_in(
        self, uow: UnitOfWork, event: Event, code: str, email: str
    ) -> AppliedPromo:
        """Use one of the code's uses, or raise ValidationFailed on `promo_code`."""
        ...

    def guessing(
        self, code: str | None, client: ClientInfo | None
    ) -> AbstractAsyncContextManager[None]:
        """Around a registration naming `code`: hold back a client that guesses."""
        ...


class AppliedPromo(Protocol):
    @property
    def code_id(self) -> UUID | None:
        """The code whose use the registration took; None when it took none."""
        ...

    @property
    def quote(self) -> Quote: ...


@dataclass(frozen=True, slots=True)
class RegistrationPolicy:
    """How long a seat waits for its payment, and where checkouts return to."""

    frontend_url: str = "http://localhost:3000"
    payment_hold: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class RegistrationForm:
    """What a registrant sends; a signed-in registrant's email is their account's."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    answers: Mapping[str, object] = field(default_factory=dict)
    promo_code: str | None = None


@dataclass(frozen=True, slots=True)
class EventCard:
    id: UUID
    slug: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: EventStatus


@dataclass(frozen=True, slots=True)
class RegistrationView:
    """A registration as its registrant sees it."""

    registration: Registration
    event: EventCard
    waitlist_position: int | None
    checkout_url: str | None = None


def _card(event: Event) -> EventCard:
    return EventCard(
        event.id,
        event.slug,
        event.title,
        event.starts_at,
        event.ends_at,
        event.timezone,
        event.status,
    )


def closed_reason(event: Event, now: datetime) -> str | None:
    """Why nobody can register for the event now, or None while it is open."""
    if event.status is EventStatus.CANCELLED:
        return "event_cancelled"
    if not event.is_published:
        return "not_published"
    if now >= event.ends_at:
        return "event_over"
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return "not_yet_open"
    closes = event.registration_closes_at
    if closes is not None and now >= closes:
        return "registration_over"
    return None


_CLOSED_WHY = {
    "event_cancelled": "The event is cancelled.",
    "not_published": "The event is not published.",
    "event_over": "The event is over.",
    "not_yet_open": "Registration has not opened yet.",
    "registration_over": "Registration has closed.",
}


def _paid_for_nothing(registration: Registration, payment: Payment) -> bool:
    """Whether `payment` arrived for a registration it never confirmed.

    That is a hold that ran out or was cancelled before the money came. A
    registration this payment confirmed, and later cancelled, is not: its
    refund is the organizer's decision.
    """
    if registration.status is RegistrationStatus.PENDING_PAYMENT:
        return False
    return registration.payment_ref != payment.id or registration.confirmed_at is None


def _clean_name(errors: FieldErrors, name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        errors.add(name, "required", "This field is required.")
    elif len(text) > NAME_MAX:
        errors.add(name, "too_long", f"At most {NAME_MAX} characters.")
    elif has_control_characters(text):
        errors.add(name, "invalid", "A name cannot hold control characters.")
    return text


def _clean_email(errors: FieldErrors, value: str | None) -> str:
    if value is None or not value.strip():
        errors.add("email", "required", "This field is required.")
        return ""
    try:
        checked = validate_email(
            value.strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        errors.add("email", "invalid_email", str(error))
        return ""
    return checked.ascii_email or checked.normalized


class RegistrationService:
    """People registering for published events, and their own registrations."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        dispatcher: MessageDispatcher,
        gateway: PaymentGateway,
        promo_codes: PromoCodes,
        policy: RegistrationPolicy | None = None,
        calendar: CalendarRenderer | None = None,
        *,
        entitlements: Entitlements,
    ) -> None:
        self._entitlements = entitlements
        self._uow = uow_factory
        self._clock = clock
        self._dispatcher = dispatcher
        self._gateway = gateway
        self._promo_codes = promo_codes
        self._policy = policy or RegistrationPolicy()
        self._calendar = calendar
        self.handover = SeatHandover(
            clock,
            dispatcher,
            frontend_url=self._policy.frontend_url,
            payment_hold=self._policy.payment_hold,
            calendar=calendar,
            checkout=self,
        )

    # -- registering -------------------------------------------------------

    async def register(
        self,
        actor: Principal | None,
        identifier: str,
        form: RegistrationForm,
        client: ClientInfo | None = None,
    ) -> RegistrationView:
        """Register for an open event: a seat, a waitlist place, or a payment hold.

        Everything happens in one transaction that first holds the event's
        seat counter, so capacity is never exceeded and the waitlist keeps
        arrival order. A paid seat is held while the checkout runs.
        """
        sent = Mails()
        async with (
            self._promo_codes.guessing(form.promo_code, client),
            self._uow() as uow,
        ):
            email, first_name, last_name, user_id = await self._person(uow, actor, form)
            found = await self._open_event(uow, identifier)
            await uow.event_seats.lock(found.id)
            # Read again under the seat lock, which every change of the event
            # takes first: a cancellation or edit that won the lock is seen.
            event = await self._open_event(uow, str(found.id))
            answers = await CustomFieldService.validate_answers_in(
                uow, event.id, form.answers
            )
            if await uow.registrations.active_for_email(
                event.id, normalize_email(email)
            ):
                raise _already_registered()
            await self._entitlements.refuse_past_cap_in(
                uow,
                event.organizer_id,
                Limit.REGISTRATIONS_PER_EVENT,
                await uow.registrations.count_active(event.id),
                sent,
            )
            now = self._clock.now()
            registration = Registration(
                event_id=event.id,
                user_id=user_id,
                email=email,
                first_name=first_name,
                last_name=last_name,
                status=RegistrationStatus.CONFIRMED,
                created_at=now,
                answers=dict(answers),
                list_price=event.price,
                currency=event.currency,
                source=RegistrationSource.PUBLIC,
            )
            if form.promo_code is not None and form.promo_code.strip():
                applied = await self._promo_codes.apply_in(
                    uow, event, form.promo_code, email
                )
                registration.promo_code_id = applied.code_id
                registration.list_price = applied.quote.list_price
                registration.discount = applied.quote.discount
            paid = registration.amount > 0
            seat_status = (
                RegistrationStatus.PENDING_PAYMENT
                if paid
                else RegistrationStatus.CONFIRMED
            )
            await place(uow, event, registration, seat_status=seat_status)
            if registration.status is RegistrationStatus.CONFIRMED:
                registration.confirmed_at = now
            elif registration.status is RegistrationStatus.PENDING_PAYMENT:
                registration.hold_expires_at = now + self._policy.payment_hold
            try:
                await uow.registrations.add(registration)
            except DuplicateRegistration as error:
                raise _already_registered() from error
            position = await uow.registrations.waitlist_rank(registration)
            await audit_registration(
                uow,
                f"registrations.registration.{registration.status.value}",
                actor,
                registration,
                client,
                waitlist_position=position,
                at=self._clock.now(),
            )
            await self._mail_outcome(uow, event, registration, position, sent)
            await uow.commit()
        await self._dispatcher.dispatch(sent.ids)
        log.info(
            "registrations.registration.created",
            registration_id=str(registration.id),
            event_id=str(event.id),
            status=registration.status.value,
            waitlist_position=position,
        )
        view = RegistrationView(registration, _card(event), position)
        if registration.status is RegistrationStatus.PENDING_PAYMENT:
            return await self._start_payment(view, event)
        return view

    # -- payments ----------------------------------------------------------

    async def confirm_payment(self, registration_id: UUID) -> RegistrationView:
        """Ask the gateway whether the checkout completed, and confirm once if so."""
        async with self._uow() as uow:
            registration = await uow.registrations.get(registration_id)
        if registration is None:
            raise _not_found()
        if (
            registration.status is RegistrationStatus.PENDING_PAYMENT
            and registration.payment_ref is not None
        ):
            payment = await self._gateway.retrieve_payment(registration.payment_ref)
            if payment is not None and payment.complete:
                await self.payment_completed(payment)
        return await self._view(registration_id)

    async def payment_completed(self, payment: Payment) -> bool:
        """Confirm the registration a completed payment is for; true the first time.

        The webhook and the confirm endpoint may both call it, in either order;
        the conditional status change lets only the first one through. Money
        that arrives for a registration it can no longer confirm (its hold ran
        out or it was cancelled first) is refunded.
        """
        if not payment.complete or payment.reference is None:
            return False
        sent = Mails()
        async with self._uow() as uow:
            registration = await uow.registrations.get(payment.reference)
            if registration is None:
                return False
            event = await uow.events.get(registration.event_id)
            if event is None:
                return False
            now = self._clock.now()
            confirmed = replace(
                registration,
                status=RegistrationStatus.CONFIRMED,
                payment_ref=payment.id,
                hold_expires_at=None,
                confirmed_at=now,
                updated_at=now,
            )
            changed = await uow.registrations.change_status(
                registration.id, RegistrationStatus.PENDING_PAYMENT, confirmed
            )
            if changed:
                await audit_registration(
                    uow,
                    "registrations.registration.paid",
                    None,
                    confirmed,
                    None,
                    payment_ref=payment.id,
                    at=self._clock.now(),
                )
                await self._mail_outcome(uow, event, confirmed, None, sent)
                await uow.commit()
        if not changed:
            return await self._refund_if_paid_for_nothing(registration.id, payment)
        await self._dispatcher.dispatch(sent.ids)
        log.info(
            "registrations.payment.completed",
            registration_id=str(registration.id),
            payment_ref=payment.id,
        )
        return True

    async def _refund_if_paid_for_nothing(
        self, registration_id: UUID, payment: Payment
    ) -> bool:
        """Refund a payment its registration never took; true the first time.

        The refund comes first and is idempotent at the provider; a provider
        that cannot be reached raises, so a webhook is redelivered and tried
        again. The record of it is written once, so the registrant is told once.
        """
        async with self._uow() as uow:
            registration = await uow.registrations.get(registration_id)
        if registration is None or not _paid_for_nothing(registration, payment):
            return False
        if not await self._gateway.refund_payment(payment.id):
            return False
        sent = Mails()
        async with self._uow() as uow:
            first = await uow.gateway_events.record(
                f"refund:{payment.id}", "registration.refund", self._clock.now()
            )
            event = await uow.events.get(registration.event_id)
            if first and event is not None:
                await audit_registration(
                    uow,
                    "registrations.payment.refunded",
                    None,
                    registration,
                    None,
                    payment_ref=payment.id,
                    amount=payment.amount,
                    currency=payment.currency,
                    at=self._clock.now(),
                )
                details = await self._details(uow, event, calendar=False)
                sent.ids.append(
                    await enqueue_mail(
                        uow.outbox,
                        mails.refund_mail(registration, details, payment),
                        self._clock,
                    )
                )
            await uow.commit()
        await self._dispatcher.dispatch(sent.ids)
        log.warning(
            "registrations.payment.refunded",
            registration_id=str(registration.id),
            status=registration.status.value,
            payment_ref=payment.id,
            amount=payment.amount,
            currency=payment.currency,
            first=first,
        )
        return first

    async def payment_failed(self, payment: Payment) -> bool:
        """Release the seat of a checkout that expired or whose payment failed.

        True the first time; a registration that is no longer waiting for this
        payment is left alone.
        """
        if payment.complete or payment.reference is None:
            return False
        async with self._uow() as uow:
            registration = await uow.registrations.get(payment.reference)
        if (
            registration is None
            or registration.status is not RegistrationStatus.PENDING_PAYMENT
            or registration.payment_ref not in (None, payment.id)
        ):
            return False
        log.info(
            "registrations.payment.failed",
            registration_id=str(registration.id),
            payment_ref=payment.id,
            expired=payment.expired,
        )
        return await self._release_hold(registration.id, self._clock.now())

    async def expire_holds(self) -> JobSummary:
        """Release the seats of payments not made in time to the next in line."""
        now = self._clock.now()
        async with self._uow() as uow:
            expired = await uow.registrations.holds_expired(now, EXPIRY_BATCH)
        pending = [r for r in expired if r.status is RegistrationStatus.PENDING_PAYMENT]
        released = 0
        for registration in pending:
            if await self._end_hold(registration, now):
                released += 1
        if released:
            log.info("registrations.holds.expired", released=released)
        return JobSummary("expire-holds", examined=len(pending), changed=released)

    async def _end_hold(self, registration: Registration, now: datetime) -> bool:
        """End the checkout at the provider, then release the seat unless it was
        paid in time; if the provider cannot be reached the seat is released
        anyway and a late payment is refunded when it arrives."""
        if registration.payment_ref is not None:
            try:
                payment = await self._gateway.expire_payment(registration.payment_ref)
            except DomainError as error:
                log.warning(
                    "registrations.payment.expire_failed",
                    registration_id=str(registration.id),
                    payment_ref=registration.payment_ref,
                    error=error.code,
                )
            else:
                if payment is not None and payment.complete:
                    return await self.payment_completed(payment)
        return await self._release_hold(registration.id, now)

    async def _start_payment(
        self, view: RegistrationView, event: Event, *, release_on_failure: bool = True
    ) -> RegistrationView:
        registration = view.registration
        base = self._policy.frontend_url.rstrip("/")
        request = PaymentRequest(
            reference=registration.id,
            amount=registration.amount,
            currency=registration.currency or "",
            description=event.title,
            email=registration.email,
            success_url=f"{base}/registrations/{registration.id}/paid",
            cancel_url=f"{base}/events/{event.slug}",
            idempotency_key=f"registration-payment:{registration.id}",
        )
        try:
            payment = await self._gateway.start_payment(request)
        except DomainError:
            if release_on_failure:
                await self._release_hold(registration.id, self._clock.now())
            raise
        async with self._uow() as uow:
            stored = await uow.registrations.get(registration.id)
            if stored is not None and stored.payment_ref is None:
                await uow.registrations.change_status(
                    registration.id,
                    RegistrationStatus.PENDING_PAYMENT,
                    replace(stored, payment_ref=payment.id),
                )
                await uow.commit()
        log.info(
            "registrations.payment.started",
            registration_id=str(registration.id),
            payment_ref=payment.id,
            complete=payment.complete,
        )
        if payment.complete:
            await self.payment_completed(payment)
            return await self._view(registration.id)
        return replace(await self._view(registration.id), checkout_url=payment.url)

    async def _release_hold(self, registration_id: UUID, now: datetime) -> bool:
        sent = AfterCommit()
        async with self._uow() as uow:
            registration = await uow.registrations.get(registration_id)
            if (
                registration is None
                or registration.status is not RegistrationStatus.PENDING_PAYMENT
            ):
                return False
            event = await uow.events.get(registration.event_id)
            if event is None:
                return False
            await uow.event_seats.lock(event.id)
            released = replace(
                registration,
                status=RegistrationStatus.CANCELLED,
                hold_expires_at=None,
                cancelled_at=now,
                updated_at=now,
            )
            if not await uow.registrations.change_status(
                registration.id, RegistrationStatus.PENDING_PAYMENT, released
            ):
                return False
            await self.handover.seat_freed(uow, event, registration, now, sent)
            await audit_registration(
                uow,
                "registrations.registration.hold_expired",
                None,
                released,
                None,
                at=self._clock.now(),
            )
            details = await self._details(uow, event, calendar=False)
            sent.ids.append(
                await enqueue_mail(
                    uow.outbox,
                    mails.hold_expired_mail(released, details),
                    self._clock,
                )
            )
            await uow.commit()
        await self.handover.after_commit(sent)
        log.info("registrations.hold.released", registration_id=str(registration_id))
        return True

    # -- an attendee's registrations ---------------------------------------

    async def my_registrations(
        self, actor: Principal, page: PageRequest
    ) -> Page[RegistrationView]:
        """The caller's registrations, and those made with their verified email."""
        async with self._uow() as uow:
            user = await uow.users.get(actor.user_id)
            email_key = (
                normalize_email(user.email) if user and user.is_verified else None
            )
            items, total = await uow.registrations.list_for_person(
                actor.user_id, email_key, offset=page.offset, limit=page.page_size
            )
            views = [await self._view_in(uow, r) for r in items]
        return Page(items=views, total=total, request=page)

    async def cancel(
        self,
        actor: Principal,
        registration_id: UUID,
        client: ClientInfo | None = None,
    ) -> RegistrationView:
        """Cancel one's own registration before the event starts; its seat moves on.

        Cancelling again changes nothing.
        """
        sent = AfterCommit()
        async with self._uow() as uow:
            registration = await self._own(uow, actor, registration_id)
            event = await uow.events.get(registration.event_id)
            if event is None:
                raise _not_found()
            if registration.status is RegistrationStatus.CANCELLED:
                return await self._view_in(uow, registration)
            now = self._clock.now()
            if now >= event.starts_at:
                raise TooLateToCancel(
                    "The event has started; registrations can no longer be cancelled.",
                    registration_id=str(registration.id),
                )
            await uow.event_seats.lock(event.id)
            cancelled = replace(
                registration,
                status=RegistrationStatus.CANCELLED,
                hold_expires_at=None,
                offer_expires_at=None,
                cancelled_at=now,
                updated_at=now,
            )
            if not await uow.registrations.change_status(
                registration.id, registration.status, cancelled
            ):
                stored = await uow.registrations.get(registration.id)
                assert stored is not None
                return await self._view_in(uow, stored)
            await self.handover.seat_freed(
                uow, event, registration, now, sent, actor=actor, client=client
            )
            await audit_registration(
                uow,
                "registrations.registration.cancelled",
                actor,
                cancelled,
                client,
                previous_status=registration.status.value,
                at=self._clock.now(),
            )
            details = await self._details(uow, event, calendar=False)
            sent.ids.append(
                await enqueue_mail(
                    uow.outbox, mails.cancellation_mail(cancelled, details), self._clock
                )
            )
            await uow.commit()
        await self.handover.after_commit(sent)
        log.info(
            "registrations.registration.cancelled",
            registration_id=str(registration.id),
            event_id=str(event.id),
        )
        return RegistrationView(cancelled, _card(event), None)

    async def collect_payment(self, registration: Registration, event: Event) -> None:
        """Start the checkout of a seat held for someone, and mail it."""
        if registration.status is not RegistrationStatus.PENDING_PAYMENT:
            return
        try:
            view = await self._start_payment(
                RegistrationView(registration, _card(event), None),
                event,
                release_on_failure=False,
            )
        except DomainError as error:
            # The hold stays; if no checkout starts before it ends, the expiry
            # job passes the seat on.
            log.warning(
                "registrations.payment.start_failed",
                registration_id=str(registration.id),
                error=error.code,
            )
            return
        if view.checkout_url is None:
            return
        async with self._uow() as uow:
            details = await self._details(uow, event, calendar=False)
            message_id = await enqueue_mail(
                uow.outbox,
                mails.payment_due_mail(view.registration, details, view.checkout_url),
                self._clock,
            )
            await uow.commit()
        await self._dispatcher.dispatch([message_id])

    # -- the events context's hook ------------------------------------------

    async def event_cancelled_in(self, uow: UnitOfWork, event: Event) -> list[UUID]:
        """Tell everyone still registered that the event is cancelled.

        Runs in the cancellation's transaction; returns the outbox ids to
        dispatch after its commit.
        """
        ids: list[UUID] = []
        details = await self._details(uow, event, calendar=False)
        offset = 0
        while True:
            items, total = await uow.registrations.list_for_event(
                event.id, RegistrationFilter(), offset=offset, limit=NOTICE_BATCH
            )
            for registration in items:
                if registration.status is RegistrationStatus.CANCELLED:
                    continue
                ids.append(
                    await enqueue_mail(
                        uow.outbox,
                        mails.event_cancelled_mail(registration, details),
                        self._clock,
                    )
                )
            offset += NOTICE_BATCH
            if offset >= total:
                break
        if ids:
            log.info(
                "registrations.event_cancelled.notified",
                event_id=str(event.id),
                registrants=len(ids),
            )
        return ids

    async def capacity_changed_in(
        self, uow: UnitOfWork, before: Event, after: Event
    ) -> FollowUp:
        """Seats a larger (or unlimited) capacity adds go to the waitlist in order.

        Runs in the event change's transaction once the new capacity is
        written, by the rules of a freed seat (offers, payment holds, never
        past the capacity); returns what is left for after its commit: the
        mails and the checkouts of the payment holds.
        """
        sent = AfterCommit()
        if _more_seats(before.capacity, after.capacity):
            got = await self.handover.seats_added(uow, after, self._clock.now(), sent)
            if got:
                log.info(
                    "registrations.capacity_raised.seated",
                    event_id=str(after.id),
                    capacity=after.capacity,
                    seated=len(got),
                )

        async def follow_up() -> None:
            await self.handover.after_commit(sent)

        return follow_up

    # -- helpers -----------------------------------------------------------

    async def _person(
        self, uow: UnitOfWork, actor: Principal | None, form: RegistrationForm
    ) -> tuple[str, str, str, UUID | None]:
        errors = FieldErrors()
        if actor is None:
            email = _clean_email(errors, form.email)
            first = _clean_name(errors, "first_name", form.first_name)
            last = _clean_name(errors, "last_name", form.last_name)
            errors.raise_if_any("The registration is not valid.")
            return email, first, last, None
        user = await uow.users.get(actor.user_id)
        if user is None:
            raise _not_found()
        if form.email is not None and normalize_email(form.email) != normalize_email(
            user.email
        ):
            errors.add(
                "email",
                "not_account_email",
                "Signed in, you register with your account's email; leave it out "
                "or sign out to register someone else.",
            )
        first = _clean_name(errors, "first_name", form.first_name or user.first_name)
        last = _clean_name(errors, "last_name", form.last_name or user.last_name)
        errors.raise_if_any("The registration is not valid.")
        return user.email, first, last, user.id

    async def _open_event(self, uow: UnitOfWork, identifier: str) -> Event:
        event = await _by_identifier(uow, identifier)
        if event is None or event.published_at is None:
            raise NotFound("No published event has this identifier.", resource="event")
        reason = closed_reason(event, self._clock.now())
        if reason is not None:
            raise RegistrationClosed(
                _CLOSED_WHY[reason], reason=reason, event_id=str(event.id)
            )
        return event

    async def _own(
        self, uow: UnitOfWork, actor: Principal, registration_id: UUID
    ) -> Registration:
        registration = await uow.registrations.get(registration_id)
        if registration is None:
            raise _not_found()
        if registration.user_id == actor.user_id:
            return registration
        user = await uow.users.get(actor.user_id)
        if (
            user is not None
            and user.is_verified
            and normalize_email(user.email) == registration.email_key
        ):
            return registration
        raise _not_found()

    async def _mail_outcome(
        self,
        uow: UnitOfWork,
        event: Event,
        registration: Registration,
        position: int | None,
        sent: Mails,
    ) -> None:
        if registration.status is RegistrationStatus.CONFIRMED:
            details = await self._details(uow, event, calendar=True)
            mail = mails.confirmation_mail(registration, details)
        elif registration.status is RegistrationStatus.WAITLISTED and position:
            details = await self._details(uow, event, calendar=False)
            mail = mails.waitlisted_mail(registration, details, position)
        else:
            return
        sent.ids.append(await enqueue_mail(uow.outbox, mail, self._clock))

    async def _details(
        self, uow: UnitOfWork, event: Event, *, calendar: bool
    ) -> mails.EventDetails:
        base = self._policy.frontend_url.rstrip("/")
        return await mails.event_details(
            uow,
            event,
            now=self._clock.now(),
            calendar=self._calendar if calendar else None,
            url=f"{base}/events/{event.slug}",
        )

    async def _view(self, registration_id: UUID) -> RegistrationView:
        async with self._uow() as uow:
            registration = await uow.registrations.get(registration_id)
            if registration is None:
                raise _not_found()
            return await self._view_in(uow, registration)

    async def _view_in(
        self, uow: UnitOfWork, registration: Registration
    ) -> RegistrationView:
        event = await uow.events.get(registration.event_id)
        if event is None:
            raise _not_found()
        position = await uow.registrations.waitlist_rank(registration)
        return RegistrationView(registration, _card(event), position)


class RegistrationCountsInUow:
    """The events context's RegistrationCounts, read in the caller's transaction."""

    async def confirmed(self, uow: UnitOfWork, event_id: UUID) -> int:
        return await uow.registrations.count_holding_seats(event_id)

    async def any(self, uow: UnitOfWork, event_id: UUID) -> bool:
        return await uow.registrations.exists_for_event(event_id)

    async def active(self, uow: UnitOfWork, event_id: UUID) -> int:
        return await uow.registrations.count_active(event_id)

    async def has_answers(self, uow: UnitOfWork, field_id: UUID) -> bool:
        return await uow.registrations.field_has_answers(field_id)


def _more_seats(before: int | None, after: int | None) -> bool:
    """Whether a capacity change adds seats; None is unlimited."""
    if before is None:
        return False
    return after is None or after > before


async def _by_identifier(uow: UnitOfWork, identifier: str) -> Event | None:
    try:
        event_id = UUID(identifier)
    except ValueError:
        slug = identifier.lower()
        if not slug or not set(slug) <= _SLUG_CHARS:
            return None
        return await uow.events.get_by_slug(slug)
    return await uow.events.get(event_id)


def _already_registered() -> AlreadyRegistered:
    return AlreadyRegistered(
        "This email is already registered for the event.",
    )


def _not_found() -> NotFound:
    return NotFound("You have no registration with this id.", resource="registration")
