"""A freed seat's way to the next in line, the same for attendees and organizers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import structlog

from platform_core.billing.ledger import Mails
from platform_core.events.model import Event, EventStatus
from platform_core.events.ports import CalendarRenderer
from platform_core.identity.model import ClientInfo, Principal
from platform_core.outbox.ports import MessageDispatcher
from platform_core.outbox.service import enqueue_mail
from platform_core.promotions.service import give_back_in
from platform_core.registrations import mails
from platform_core.registrations.audit import audit_registration
from platform_core.registrations.model import Registration, RegistrationStatus
from platform_core.registrations.seats import fill_seats, hand_on_seat
from platform_core.shared.clock import Clock
from platform_core.uow import UnitOfWork

log = structlog.get_logger(__name__)

DEFAULT_PAYMENT_HOLD = timedelta(minutes=15)


class Checkout(Protocol):
    """Starts the payment of a seat held for someone, after the hold is committed."""

    async def collect_payment(self, registration: Registration, event: Event) -> None:
        """Start the checkout and tell the registrant; failures leave the hold."""
        ...


@dataclass(slots=True)
class AfterCommit(Mails):
    """What a transaction leaves for after its commit: mails and checkouts."""

    payments_due: list[tuple[Registration, Event]] = field(default_factory=list)


class SeatHandover:
    """Passes a seat someone gave up on, by the event's rules, in their transaction."""

    def __init__(
        self,
        clock: Clock,
        dispatcher: MessageDispatcher,
        *,
        frontend_url: str,
        payment_hold: timedelta = DEFAULT_PAYMENT_HOLD,
        calendar: CalendarRenderer | None = None,
        checkout: Checkout | None = None,
    ) -> None:
        self._clock = clock
        self._dispatcher = dispatcher
        self._frontend_url = frontend_url.rstrip("/")
        self._payment_hold = payment_hold
        self._calendar = calendar
        self.checkout = checkout

    @property
    def payment_hold(self) -> timedelta:
        return self._payment_hold

    def link(self, registration_id: UUID) -> str:
        """Where a registrant sees their registration, e.g. to accept an offer."""
        return f"{self._frontend_url}/registrations/{registration_id}"

    async def seat_freed(
        self,
        uow: UnitOfWork,
        event: Event,
        left: Registration,
        now: datetime,
        after: AfterCommit,
        *,
        actor: Principal | None = None,
        client: ClientInfo | None = None,
    ) -> list[Registration]:
        """Give back the code use of `left`; the seat it held goes to the next in line.

        The caller holds the event's seat counter and has already ended the
        claim of `left`. The seat goes back to the event first, so an event
        taken past its capacity seats nobody until it is below it. An event
        with offers offers a free seat; otherwise the next in line is
        promoted, onto a payment hold on a paid event unless their price is
        zero. A cancelled or ended event keeps the seat. Returns who got a
        seat; a payment hold waits in `after` for `after_commit` once the
        transaction committed.
        """
        if left.promo_code_id is not None:
            await give_back_in(uow, left.promo_code_id)
        if not left.holds_seat:
            return []
        # The caller holds the seat lock, which a cancellation of the event
        # takes first; read the event again so such a cancellation is seen.
        event = await uow.events.get(event.id) or event
        if not self._seats_move(event, now):
            await uow.event_seats.release(event.id)
            return []
        seat_status, hold, offer = self._rules(event)
        got = await hand_on_seat(
            uow, event, now, seat_status=seat_status, hold=hold, offer=offer
        )
        return [
            await self._moved_up(
                uow, event, r, now, after, actor, client, freed_by=str(left.id)
            )
            for r in got
        ]

    async def seats_added(
        self,
        uow: UnitOfWork,
        event: Event,
        now: datetime,
        after: AfterCommit,
        *,
        actor: Principal | None = None,
        client: ClientInfo | None = None,
    ) -> list[Registration]:
        """The event's capacity grew: its new seats go to whoever waits.

        `event` carries the new capacity, already written in the caller's
        transaction. The seats go in line order by the same rules as a freed
        seat (offers, payment holds, mails after the commit), never past the
        capacity; a cancelled or ended event seats nobody.
        """
        if not self._seats_move(event, now):
            return []
        seat_status, hold, offer = self._rules(event)
        got = await fill_seats(
            uow, event, now, seat_status=seat_status, hold=hold, offer=offer
        )
        return [
            await self._moved_up(
                uow, event, r, now, after, actor, client, capacity=event.capacity
            )
            for r in got
        ]

    @staticmethod
    def _seats_move(event: Event, now: datetime) -> bool:
        """Whether a free seat still goes to the waitlist: not once it is over."""
        return event.status is not EventStatus.CANCELLED and now < event.ends_at

    def _rules(
        self, event: Event
    ) -> tuple[RegistrationStatus, timedelta | None, timedelta | None]:
        """The status, payment hold and offer time a seat from the waitlist gets."""
        if event.price > 0:
            seat_status, hold = RegistrationStatus.PENDING_PAYMENT, self._payment_hold
        else:
            seat_status, hold = RegistrationStatus.CONFIRMED, None
        return (
            seat_status,
            hold,
            None
            if event.waitlist_offer_hours is None
            else timedelta(hours=event.waitlist_offer_hours),
        )

    async def _moved_up(
        self,
        uow: UnitOfWork,
        event: Event,
        got: Registration,
        now: datetime,
        after: AfterCommit,
        actor: Principal | None,
        client: ClientInfo | None,
        **details: object,
    ) -> Registration:
        """Mail, audit and log someone the waitlist gave a seat (or its offer)."""
        if got.status is RegistrationStatus.PENDING_PAYMENT and not got.amount:
            free = replace(
                got,
                status=RegistrationStatus.CONFIRMED,
                hold_expires_at=None,
                confirmed_at=now,
            )
            await uow.registrations.change_status(
                got.id, RegistrationStatus.PENDING_PAYMENT, free
            )
            got = free
        if got.offer_expires_at is not None:
            action = "registrations.waitlist.offered"
            event_details = await self._details(uow, event, calendar=False)
            message = mails.offer_mail(
                got, event_details, self.link(got.id), got.offer_expires_at
            )
            after.ids.append(await enqueue_mail(uow.outbox, message, self._clock))
        else:
            action = "registrations.waitlist.promoted"
            await self.seated_in(uow, event, got, after)
        await audit_registration(
            uow, action, actor, got, client, at=now, by="waitlist", **details
        )
        log.info(
            action,
            registration_id=str(got.id),
            event_id=str(event.id),
            status=got.status.value,
            by="waitlist",
        )
        return got

    async def seated_in(
        self,
        uow: UnitOfWork,
        event: Event,
        registration: Registration,
        after: AfterCommit,
    ) -> None:
        """Someone now has a seat: mail it, or queue the checkout of its payment."""
        if registration.status is RegistrationStatus.PENDING_PAYMENT:
            after.payments_due.append((registration, event))
            return
        details = await self._details(uow, event, calendar=True)
        after.ids.append(
            await enqueue_mail(
                uow.outbox, mails.promoted_mail(registration, details), self._clock
            )
        )

    async def after_commit(self, after: AfterCommit) -> None:
        """Send the mails a committed transaction queued, then start the
        checkouts of the payment holds it made."""
        await self._dispatcher.dispatch(after.ids)
        if self.checkout is None:
            return
        for registration, event in after.payments_due:
            await self.checkout.collect_payment(registration, event)

    async def _details(
        self, uow: UnitOfWork, event: Event, *, calendar: bool
    ) -> mails.EventDetails:
        return await mails.event_details(
            uow,
            event,
            now=self._clock.now(),
            calendar=self._calendar if calendar else None,
            url=f"{self._frontend_url}/events/{event.slug}",
        )
