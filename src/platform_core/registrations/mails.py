"""The mails the registrations context sends to registrants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from platform_core.billing.ports import Payment
from platform_core.events.model import Event, EventSession
from platform_core.events.ports import CalendarRenderer
from platform_core.notifications.model import Attachment, MailMessage
from platform_core.registrations.model import Registration
from platform_core.uow import UnitOfWork

CALENDAR_TYPE = "text/calendar"


@dataclass(frozen=True, slots=True)
class EventDetails:
    """What a registrant's mail says about the event, and its calendar file."""

    event: Event
    organizer_name: str
    url: str | None = None
    calendar: bytes | None = None

    def attachments(self) -> tuple[Attachment, ...]:
        if self.calendar is None:
            return ()
        return (Attachment(f"{self.event.slug}.ics", CALENDAR_TYPE, self.calendar),)


async def event_details(
    uow: UnitOfWork,
    event: Event,
    *,
    now: datetime,
    calendar: CalendarRenderer | None,
    url: str | None = None,
) -> EventDetails:
    """The event's details read in the caller's transaction, with its .ics file."""
    names = await uow.events.organizer_names([event.organizer_id])
    name = names.get(event.organizer_id, "")
    content = None
    if calendar is not None:
        sessions: Sequence[EventSession] = await uow.event_sessions.list_for_event(
            event.id
        )
        content = calendar.render(
            event, sessions, organizer_name=name, url=url, stamp=now
        )
    return EventDetails(event=event, organizer_name=name, url=url, calendar=content)


def local_time(event: Event) -> str:
    """The event's start and end as its attendees read them, in its own zone."""
    zone = ZoneInfo(event.timezone)
    start = event.starts_at.astimezone(zone)
    end = event.ends_at.astimezone(zone)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if start.date() == end.date():
        return f"{day}, {start:%H:%M} to {end:%H:%M} ({event.timezone})"
    end_day = f"{end:%A} {end.day} {end:%B %Y}"
    return f"{day} {start:%H:%M} to {end_day} {end:%H:%M} ({event.timezone})"


def _place(event: Event) -> list[str]:
    lines = []
    if event.venue:
        lines.append(f"Venue: {event.venue}")
    if event.address:
        lines.append(f"Address: {' '.join(event.address.split())}")
    return lines


def _summary(details: EventDetails) -> list[str]:
    event = details.event
    lines = [f"Event: {event.title}", f"When: {local_time(event)}"]
    if details.organizer_name:
        lines.append(f"Organizer: {details.organizer_name}")
    lines.extend(_place(event))
    if details.url:
        lines.append(f"Details: {details.url}")
    return lines


def _greeting(registration: Registration) -> str:
    name = registration.first_name.strip()
    return f"Hello {name}," if name else "Hello,"


def _mail(
    registration: Registration,
    subject: str,
    lines: list[str],
    attachments: tuple[Attachment, ...] = (),
) -> MailMessage:
    greeting = _greeting(registration)
    text = "\n\n".join([greeting, *lines]) + "\n"
    body = "\n".join(f"<p>{escape(p)}</p>" for p in [greeting, *lines])
    return MailMessage(
        to=registration.email,
        subject=subject,
        text=text,
        html=f"<html>\n<body>\n{body}\n</body>\n</html>\n",
        attachments=attachments,
    )


def _price(registration: Registration) -> list[str]:
    if registration.amount <= 0 or registration.currency is None:
        return []
    return [f"Paid: {registration.amount / 100:.2f} {registration.currency}"]


def confirmation_mail(registration: Registration, details: EventDetails) -> MailMessage:
    lines = [
        f"Your place at {details.event.title} is confirmed.",
        "\n".join([*_summary(details), *_price(registration)]),
        "The calendar file attached adds the event to your calendar.",
    ]
    return _mail(
        registration,
        f"You are registered: {details.event.title}",
        lines if details.calendar else lines[:2],
        details.attachments(),
    )


def waitlisted_mail(
    registration: Registration, details: EventDetails, position: int
) -> MailMessage:
    lines = [
        f"{details.event.title} is full, so you are on its waitlist "
        f"at position {position}.",
        "\n".join(_summary(details)),
        "When a seat frees up it goes to the next person in line, and we "
        "will write to you as soon as it is yours.",
    ]
    return _mail(registration, f"You are on the waitlist: {details.event.title}", lines)


def promoted_mail(registration: Registration, details: EventDetails) -> MailMessage:
    lines = [
        f"A seat at {details.event.title} freed up and it is now yours: "
        "you have moved from the waitlist to confirmed.",
        "\n".join(_summary(details)),
    ]
    if details.calendar:
        lines.append("The calendar file attached adds the event to your calendar.")
    return _mail(
        registration,
        f"A seat is yours: {details.event.title}",
        lines,
        details.attachments(),
    )


def payment_due_mail(
    registration: Registration, details: EventDetails, checkout_url: str
) -> MailMessage:
    lines = [
        f"A seat at {details.event.title} is held for you until you pay.",
        "\n".join(_summary(details)),
        f"Complete your payment here: {checkout_url}",
    ]
    return _mail(
        registration, f"Complete your registration: {details.event.title}", lines
    )


def cancellation_mail(registration: Registration, details: EventDetails) -> MailMessage:
    lines = [
        f"Your registration for {details.event.title} is cancelled.",
        "\n".join(_summary(details)),
        "If this is a mistake, you can register again while registration is open.",
    ]
    return _mail(registration, f"Registration cancelled: {details.event.title}", lines)


def hold_expired_mail(registration: Registration, details: EventDetails) -> MailMessage:
    lines = [
        f"The seat held for you at {details.event.title} was released because "
        "the payment was not completed in time.",
        "You can register again while registration is open.",
    ]
    return _mail(registration, f"Seat released: {details.event.title}", lines)


def refund_mail(
    registration: Registration, details: EventDetails, payment: Payment
) -> MailMessage:
    amount = payment.amount if payment.amount is not None else registration.amount
    currency = payment.currency or registration.currency or ""
    lines = [
        f"Your payment for {details.event.title} arrived after your "
        "registration had stopped waiting for it (the seat held for you was "
        "released, or the registration was cancelled), so it secured no place.",
        f"We have refunded it in full: {amount / 100:.2f} {currency}. Your bank "
        "may take a few days to show it.",
        "You can register again while registration is open.",
    ]
    return _mail(registration, f"Payment refunded: {details.event.title}", lines)


def event_cancelled_mail(
    registration: Registration, details: EventDetails
) -> MailMessage:
    lines = [
        f"The organizer has cancelled {details.event.title}.",
        "\n".join(_summary(details)),
        "Your registration is void; the organizer will be in touch about "
        "anything you paid.",
    ]
    return _mail(registration, f"Event cancelled: {details.event.title}", lines)


def offer_mail(
    registration: Registration,
    details: EventDetails,
    accept_url: str,
    expires_at: datetime,
) -> MailMessage:
    zone = ZoneInfo(details.event.timezone)
    until = expires_at.astimezone(zone)
    lines = [
        f"A seat at {details.event.title} freed up and it is offered to you, "
        "the next on its waitlist.",
        "\n".join(_summary(details)),
        f"Accept it before {until:%A} {until.day} {until:%B %Y} {until:%H:%M} "
        f"({details.event.timezone}) here: {accept_url}",
        "If you do not accept in time, the seat passes to the next person.",
    ]
    return _mail(
        registration, f"A seat is offered to you: {details.event.title}", lines
    )


def offer_expired_mail(
    registration: Registration, details: EventDetails
) -> MailMessage:
    lines = [
        f"The seat offered to you at {details.event.title} was not accepted in "
        "time, so it passed to the next person and your place on the waitlist "
        "has ended.",
        "You can register again while registration is open.",
    ]
    return _mail(registration, f"Offer expired: {details.event.title}", lines)
