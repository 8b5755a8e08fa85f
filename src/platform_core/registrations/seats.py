"""Seats and the waitlist: the rules every registration path shares.

Each function runs inside the caller's unit of work and starts by holding the
event's seat counter, so seat changes of one event happen one after another
on every engine and the waitlist keeps arrival order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from platform_core.events.model import Event
from platform_core.registrations.model import Registration, RegistrationStatus
from platform_core.shared.errors import Conflict
from platform_core.uow import UnitOfWork


class EventFull(Conflict):
    default_code = "event_full"


async def place(
    uow: UnitOfWork,
    event: Event,
    registration: Registration,
    *,
    seat_status: RegistrationStatus,
    ignore_capacity: bool = False,
) -> None:
    """Give a new registration a seat (as `seat_status`) or a waitlist place.

    Nobody overtakes the waitlist: while someone waits, newcomers queue behind
    them. Raises EventFull when no seat is left and the event has no waitlist.
    """
    arrival = await uow.event_seats.next_arrival(event.id)
    registration.arrival = arrival
    waiting = await uow.registrations.first_waiting(event.id)
    if (ignore_capacity or waiting is None) and await uow.event_seats.take(
        event.id, ignore_capacity=ignore_capacity
    ):
        registration.status = seat_status
        registration.waitlist_seq = None
        return
    if not event.waitlist_enabled:
        raise EventFull(
            "The event is full.", event_id=str(event.id), capacity=event.capacity
        )
    registration.status = RegistrationStatus.WAITLISTED
    registration.waitlist_seq = arrival


async def hand_on_seat(
    uow: UnitOfWork,
    event: Event,
    now: datetime,
    *,
    seat_status: RegistrationStatus,
    hold: timedelta | None = None,
    offer: timedelta | None = None,
) -> list[Registration]:
    """A seat someone gave up goes back to the event, then to whoever waits.

    The caller has already ended the leaving registration's claim on it. The
    seat is given back first, so on an event taken past its capacity (an
    organizer's `ignore_capacity`) nobody moves up until the seats taken are
    below the capacity. Returns who got a seat, as `fill_seats` does.
    """
    await uow.event_seats.lock(event.id)
    await uow.event_seats.release(event.id)
    return await fill_seats(
        uow, event, now, seat_status=seat_status, hold=hold, offer=offer
    )


async def fill_seats(
    uow: UnitOfWork,
    event: Event,
    now: datetime,
    *,
    seat_status: RegistrationStatus,
    hold: timedelta | None = None,
    offer: timedelta | None = None,
) -> list[Registration]:
    """Give every free seat to the next in line, in order, while anyone waits.

    Each seat is taken by the conditional `take`, which reads the event's
    current capacity, so nobody is seated past it. With `offer`, the next in
    line is offered the seat until `now + offer` and stays waitlisted;
    otherwise they are promoted to `seat_status` (with a payment hold until
    `now + hold` when given). Returns who got a seat, first in line first.
    """
    await uow.event_seats.lock(event.id)
    seated: list[Registration] = []
    while (waiting := await uow.registrations.first_waiting(event.id)) is not None:
        if not await uow.event_seats.take(event.id):
            break
        promoted = _promoted(
            waiting, now, seat_status=seat_status, hold=hold, offer=offer
        )
        if await uow.registrations.change_status(
            waiting.id, RegistrationStatus.WAITLISTED, promoted
        ):
            seated.append(promoted)
        else:
            await uow.event_seats.release(event.id)
    return seated


def _promoted(
    waiting: Registration,
    now: datetime,
    *,
    seat_status: RegistrationStatus,
    hold: timedelta | None,
    offer: timedelta | None,
) -> Registration:
    promoted = replace(waiting, updated_at=now)
    if offer is not None:
        promoted.offer_expires_at = now + offer
        return promoted
    promoted.status = seat_status
    promoted.waitlist_seq = None
    promoted.offer_expires_at = None
    if seat_status is RegistrationStatus.CONFIRMED:
        promoted.confirmed_at = now
    elif hold is not None:
        promoted.hold_expires_at = now + hold
    return promoted
