"""The organizer's side of registrations: lists, exports, bulk adds and the waitlist."""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

import structlog
from email_validator import EmailNotValidError, validate_email

from platform_core.billing.entitlements import Entitlements
from platform_core.billing.model import Capability, Limit
from platform_core.billing.service import JobSummary
from platform_core.events.custom_fields import CustomFieldService
from platform_core.events.fields import Answer, CustomField, validate_answers
from platform_core.events.model import Event, EventStatus
from platform_core.events.ports import CalendarRenderer
from platform_core.events.service import own_event
from platform_core.identity.model import (
    ClientInfo,
    Principal,
    has_control_characters,
    normalize_email,
)
from platform_core.notifications.model import MailMessage
from platform_core.outbox.service import enqueue_mail
from platform_core.registrations.audit import audit_registration
from platform_core.registrations.handover import AfterCommit, SeatHandover
from platform_core.registrations.mails import (
    EventDetails,
    cancellation_mail,
    event_details,
    offer_expired_mail,
)
from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationSource,
    RegistrationStatus,
)
from platform_core.registrations.ports import DuplicateRegistration
from platform_core.registrations.seats import EventFull, place
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    Conflict,
    FieldError,
    FieldErrors,
    NotFound,
    ValidationFailed,
)
from platform_core.shared.pagination import Page, PageRequest
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

BULK_MAX = 1_000
NOTE_MAX = 2_000
NAME_MAX = 150
EXPORT_BATCH = 1_000
EXPIRY_BATCH = 100

EDITABLE = frozenset({"status", "answers", "note"})
"""What an organizer may change on a registration."""

TRANSITIONS: Mapping[RegistrationStatus, frozenset[RegistrationStatus]] = {
    RegistrationStatus.PENDING_PAYMENT: frozenset(
        {RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED}
    ),
    RegistrationStatus.CONFIRMED: frozenset({RegistrationStatus.CANCELLED}),
    RegistrationStatus.WAITLISTED: frozenset(
        {RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED}
    ),
    RegistrationStatus.CANCELLED: frozenset(),
}
"""The status changes an organizer may make, from each status."""

EXPORT_COLUMNS = (
    "uuid",
    "status",
    "email",
    "first_name",
    "last_name",
    "amount",
    "currency",
    "promo_code",
    "waitlist_position",
    "note",
    "source",
    "created_at",
    "confirmed_at",
    "cancelled_at",
)
"""The fixed columns of the CSV export; one column per custom field follows."""

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class TransitionNotAllowed(Conflict):
    default_code = "transition_not_allowed"


class NoSeatLeft(Conflict):
    default_code = "no_seat_left"


class NotWaitlisted(Conflict):
    default_code = "not_waitlisted"


class NoOffer(Conflict):
    default_code = "no_offer"


class EventCancelled(Conflict):
    default_code = "event_cancelled"


def _refuse_seats_if_cancelled(event: Event) -> None:
    """A cancelled event gives nobody a seat any more."""
    if event.status is EventStatus.CANCELLED:
        raise EventCancelled("The event is cancelled.", event_id=str(event.id))


@dataclass(slots=True)
class _Room:
    """Registrations a bulk add may still make under the organizer's plan."""

    left: int


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    """A registration as its organizer sees it, with its place in line."""

    registration: Registration
    waitlist_position: int | None = None
    promo_code: str | None = None


@dataclass(frozen=True, slots=True)
class PersonInput:
    """One person an organizer adds, as the public registration form has it."""

    email: str
    first_name: str
    last_name: str
    answers: Mapping[str, object] = field(default_factory=dict)
    promo_code: str | None = None


class BulkOutcome(enum.StrEnum):
    ADDED = "added"
    SKIPPED = "skipped"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class BulkRowResult:
    """What became of one row of a bulk add; `code` says why it was not added."""

    index: int
    email: str
    outcome: BulkOutcome
    registration: Registration | None = None
    code: str | None = None
    reason: str | None = None
    errors: Sequence[FieldError] = ()


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A CSV file of an event's registrations and the name to save it under."""

    filename: str
    content: bytes
    rows: int


def cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, list):
        text = "; ".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _clean_person(person: PersonInput) -> tuple[str, str, str]:
    """The email, first and last name, checked; raises ValidationFailed."""
    errors = FieldErrors()
    email = ""
    try:
        checked = validate_email(
            person.email.strip(), check_deliverability=False, allow_smtputf8=False
        )
        email = checked.ascii_email or checked.normalized
    except EmailNotValidError as error:
        errors.add("email", "invalid_email", str(error))
    names = {"first_name": person.first_name, "last_name": person.last_name}
    for name, value in names.items():
        if not value.strip():
            errors.add(name, "required", "This field is required.")
        elif len(value.strip()) > NAME_MAX:
            errors.add(name, "too_long", f"At most {NAME_MAX} characters.")
        elif has_control_characters(value):
            errors.add(name, "invalid", "A name cannot hold control characters.")
    errors.raise_if_any("The registration is not valid.")
    return email, person.first_name.strip(), person.last_name.strip()


def _check_note(note: object) -> str:
    errors = FieldErrors()
    if not isinstance(note, str):
        errors.add("note", "invalid", "A note is text.")
    elif len(note) > NOTE_MAX:
        errors.add("note", "too_long", f"At most {NOTE_MAX} characters.")
    elif any(ord(c) < 32 and c not in "\n\r\t" for c in note) or "\x7f" in note:
        errors.add("note", "invalid", "A note cannot hold control characters.")
    errors.raise_if_any()
    assert isinstance(note, str)
    return note


async def _edited_answers(
    uow: UnitOfWork, current: Registration, answers: Mapping[str, object]
) -> dict[str, Answer]:
    """The answers as edited, checked against the event's fields.

    A field archived since is no longer asked, but its answer is kept whether
    the edit repeats it unchanged or leaves it out; only a new value for it is
    refused (`field_archived`), so editing one answer never loses another.
    """
    fields = await uow.custom_fields.list_for_event(
        current.event_id, include_archived=True
    )
    archived = {str(f.id) for f in fields if f.is_archived}
    kept = {k: v for k, v in current.answers.items() if k in archived}
    asked = {k: v for k, v in answers.items() if k not in kept or v != kept[k]}
    return {**kept, **validate_answers(fields, asked)}


class RegistrationAdminService:
    """An organizer's registrations and waitlist of their own events."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        handover: SeatHandover,
        entitlements: Entitlements,
        calendar: CalendarRenderer | None = None,
    ) -> None:
        self._entitlements = entitlements
        self._uow = uow_factory
        self._clock = clock
        self._handover = handover
        self._calendar = calendar

    # -- reading -----------------------------------------------------------

    async def list_registrations(
        self,
        actor: Principal,
        event_id: UUID,
        criteria: RegistrationFilter,
        page: PageRequest,
    ) -> Page[RegistrationRow]:
        """The event's registrations, oldest first, with waitlist positions."""
        async with self._uow() as uow:
            event = await own_event(uow, actor, event_id)
            items, total = await uow.registrations.list_for_event(
                event.id, criteria, offset=page.offset, limit=page.page_size
            )
            rows = await self._rows(uow, event, items)
        return Page(items=rows, total=total, request=page)

    async def get_registration(
        self, actor: Principal, event_id: UUID, registration_id: UUID
    ) -> RegistrationRow:
        async with self._uow() as uow:
            event, registration = await self._own(uow, actor, event_id, registration_id)
            (row,) = await self._rows(uow, event, [registration])
        return row

    async def waitlist(self, actor: Principal, event_id: UUID) -> list[RegistrationRow]:
        """Everyone waiting, next in line first; an offer keeps its place."""
        async with self._uow() as uow:
            event = await own_event(uow, actor, event_id)
            waiting = await uow.registrations.waitlist(event.id)
            return await self._rows(uow, event, waiting)

    async def export_csv(self, actor: Principal, event_id: UUID) -> ExportFile:
        """Every registration of the event with every answer, as UTF-8 CSV.

        Built in memory, which suits the tens of thousands of rows an event has
        at most; a much larger event would need a streamed export.
        """
        async with self._uow() as uow:
            event = await own_event(uow, actor, event_id)
            fields = await uow.custom_fields.list_for_event(
                event.id, include_archived=True
            )
            registrations: list[Registration] = []
            while True:
                batch, total = await uow.registrations.list_for_event(
                    event.id,
                    RegistrationFilter(),
                    offset=len(registrations),
                    limit=EXPORT_BATCH,
                )
                registrations.extend(batch)
                if not batch or len(registrations) >= total:
                    break
            rows = await self._rows(uow, event, registrations)
        content = _csv(rows, sorted(fields, key=lambda f: (f.order, f.created_at)))
        return ExportFile(
            filename=f"{event.slug}-registrations.csv",
            content=content,
            rows=len(rows),
        )

    # -- adding ------------------------------------------------------------

    async def bulk_add(
        self,
        actor: Principal,
        event_id: UUID,
        people: Sequence[PersonInput],
        *,
        ignore_capacity: bool = False,
        client: ClientInfo | None = None,
    ) -> list[BulkRowResult]:
        """Add up to BULK_MAX people at once, confirmed without payment.

        Each row is checked in full before anything of it is written, so a
        refused row leaves nothing behind and refuses no other row. A row whose
        email is already registered, or came earlier in the same request, is
        skipped. Without `ignore_capacity` a full event puts the row on the
        waitlist, or refuses it as `event_full` when there is none. Only an
        account whose plan still makes it an organizer adds people in bulk.
        """
        if not people:
            _refuse("registrations", "required", "Give at least one registration.")
        if len(people) > BULK_MAX:
            _refuse(
                "registrations",
                "too_many",
                f"At most {BULK_MAX} registrations in one request.",
            )
        now = self._clock.now()
        results: list[BulkRowResult] = []
        mails = AfterCommit()
        async with self._uow() as uow:
            event = await own_event(uow, actor, event_id)
            _refuse_seats_if_cancelled(event)
            await self._entitlements.require_in(
                uow, actor.user_id, Capability.ORGANIZER, mails
            )
            await uow.event_seats.lock(event.id)
            room = await self._room_in_plan(uow, event, mails)
            seen: set[str] = set()
            for index, person in enumerate(people):
                result = await self._add_one(
                    uow, event, index, person, seen, now, ignore_capacity, room
                )
                results.append(result)
                if result.registration is not None:
                    await audit_registration(
                        uow,
                        "registrations.registration.created",
                        actor,
                        result.registration,
                        client,
                        source=RegistrationSource.BULK.value,
                        at=self._clock.now(),
                    )
            await uow.commit()
        await self._handover.after_commit(mails)
        added = sum(r.outcome is BulkOutcome.ADDED for r in results)
        log.info(
            "registrations.bulk.added",
            event_id=str(event_id),
            rows=len(results),
            added=added,
            ignore_capacity=ignore_capacity,
        )
        return results

    async def _room_in_plan(
        self, uow: UnitOfWork, event: Event, mails: AfterCommit
    ) -> _Room | None:
        """How many more registrations the organizer's plan lets the event take;
        None when the plan sets no cap."""
        cap = await self._entitlements.per_event_cap_in(
            uow, event.organizer_id, Limit.REGISTRATIONS_PER_EVENT, mails
        )
        if cap is None:
            return None
        return _Room(max(0, cap - await uow.registrations.count_active(event.id)))

    async def _add_one(
        self,
        uow: UnitOfWork,
        event: Event,
        index: int,
        person: PersonInput,
        seen: set[str],
        now: datetime,
        ignore_capacity: bool,
        room: _Room | None,
    ) -> BulkRowResult:
        shown = person.email.strip()[:320]
        try:
            email, first_name, last_name = _clean_person(person)
            answers = await CustomFieldService.validate_answers_in(
                uow, event.id, person.answers
            )
        except ValidationFailed as refused:
            return BulkRowResult(
                index,
                shown,
                BulkOutcome.REFUSED,
                code=refused.code,
                reason=refused.detail,
                errors=refused.errors,
            )
        if person.promo_code is not None and person.promo_code.strip():
            return BulkRowResult(
                index,
                shown,
                BulkOutcome.REFUSED,
                code="promo_code_not_applicable",
                reason="Bulk adds are free of charge; a promo code has no use here.",
            )
        key = normalize_email(email)
        if key in seen:
            return BulkRowResult(
                index,
                email,
                BulkOutcome.SKIPPED,
                code="duplicate_in_request",
                reason="An earlier row of this request has the same email.",
            )
        seen.add(key)
        if await uow.registrations.active_for_email(event.id, key) is not None:
            return BulkRowResult(
                index,
                email,
                BulkOutcome.SKIPPED,
                code="already_registered",
                reason="This email is already registered for the event.",
            )
        if room is not None and room.left <= 0:
            return BulkRowResult(
                index,
                email,
                BulkOutcome.REFUSED,
                code="quota_exceeded",
                reason="The event has as many registrations as the plan allows "
                f"({Limit.REGISTRATIONS_PER_EVENT.value}).",
            )
        registration = Registration(
            event_id=event.id,
            email=email,
            first_name=first_name,
            last_name=last_name,
            status=RegistrationStatus.CONFIRMED,
            created_at=now,
            answers=dict(answers),
            currency=event.currency,
            source=RegistrationSource.BULK,
        )
        try:
            await place(
                uow,
                event,
                registration,
                seat_status=RegistrationStatus.CONFIRMED,
                ignore_capacity=ignore_capacity,
            )
        except EventFull as full:
            return BulkRowResult(
                index, email, BulkOutcome.REFUSED, code=full.code, reason=full.detail
            )
        if registration.status is RegistrationStatus.CONFIRMED:
            registration.confirmed_at = now
        try:
            await uow.registrations.add(registration)
        except DuplicateRegistration:
            if registration.holds_seat:
                await uow.event_seats.release(event.id)
            return BulkRowResult(
                index,
                email,
                BulkOutcome.SKIPPED,
                code="already_registered",
                reason="This email is already registered for the event.",
            )
        if room is not None:
            room.left -= 1
        return BulkRowResult(index, email, BulkOutcome.ADDED, registration)

    # -- changing ----------------------------------------------------------

    async def update_registration(
        self,
        actor: Principal,
        event_id: UUID,
        registration_id: UUID,
        changes: Mapping[str, Any],
        client: ClientInfo | None = None,
    ) -> RegistrationRow:
        """Change the status (allowed moves only), the answers or the note."""
        unknown = sorted(set(changes) - EDITABLE)
        if unknown:
            errors = FieldErrors()
            for name in unknown:
                errors.add(name, "read_only", "This field cannot be changed here.")
            errors.raise_if_any()
        note = _check_note(changes["note"]) if "note" in changes else None
        target = _status(changes["status"]) if "status" in changes else None
        now = self._clock.now()
        mails = AfterCommit()
        async with self._uow() as uow:
            event, current = await self._own(uow, actor, event_id, registration_id)
            if target is not None and target is not current.status:
                await uow.event_seats.lock(event.id)
                event, current = await self._own(uow, actor, event_id, registration_id)
            changed = replace(current, updated_at=now)
            if note is not None:
                changed.note = note
            if "answers" in changes:
                answers = changes["answers"]
                if not isinstance(answers, Mapping):
                    _refuse("answers", "invalid", "Answers map field uuids to values.")
                changed.answers = await _edited_answers(uow, current, answers)
            moved = target is not None and target is not current.status
            if moved:
                assert target is not None
                changed = await self._move(
                    uow, event, current, changed, target, now, actor, client, mails
                )
            elif not await uow.registrations.change_status(
                current.id, current.status, changed
            ):
                raise Conflict(
                    "The registration changed meanwhile; read it again.",
                    code="registration_changed",
                )
            await audit_registration(
                uow,
                "registrations.registration.updated",
                actor,
                changed,
                client,
                fields=sorted(changes),
                **(
                    {"from_status": current.status.value, "to_status": target.value}
                    if moved and target is not None
                    else {}
                ),
                at=self._clock.now(),
            )
            (row,) = await self._rows(uow, event, [changed])
            await uow.commit()
        await self._handover.after_commit(mails)
        return row

    async def _move(
        self,
        uow: UnitOfWork,
        event: Event,
        current: Registration,
        changed: Registration,
        target: RegistrationStatus,
        now: datetime,
        actor: Principal,
        client: ClientInfo | None,
        mails: AfterCommit,
    ) -> Registration:
        allowed = TRANSITIONS[current.status]
        if target not in allowed:
            raise TransitionNotAllowed(
                f"A {current.status.value} registration cannot become {target.value}.",
                from_status=current.status.value,
                to_status=target.value,
                allowed=sorted(s.value for s in allowed),
            )
        if target is RegistrationStatus.CANCELLED:
            return await self._cancel(
                uow, event, current, changed, now, actor, client, mails
            )
        _refuse_seats_if_cancelled(event)
        if current.status is RegistrationStatus.WAITLISTED:
            return await self._promote(
                uow, event, current, changed, now, actor, client, mails, False
            )
        changed.status = RegistrationStatus.CONFIRMED
        changed.confirmed_at = now
        changed.hold_expires_at = None
        await self._write(uow, current, changed)
        log.info(
            "registrations.registration.marked_paid", registration_id=str(current.id)
        )
        return changed

    async def cancel_registration(
        self,
        actor: Principal,
        event_id: UUID,
        registration_id: UUID,
        client: ClientInfo | None = None,
    ) -> RegistrationRow:
        """Cancel; a seat it held goes to the next in line. Twice changes nothing."""
        now = self._clock.now()
        mails = AfterCommit()
        async with self._uow() as uow:
            event, current = await self._own_locked(
                uow, actor, event_id, registration_id
            )
            if current.status is not RegistrationStatus.CANCELLED:
                current = await self._cancel(
                    uow,
                    event,
                    current,
                    replace(current, updated_at=now),
                    now,
                    actor,
                    client,
                    mails,
                )
            (row,) = await self._rows(uow, event, [current])
            await uow.commit()
        await self._handover.after_commit(mails)
        return row

    async def promote(
        self,
        actor: Principal,
        event_id: UUID,
        registration_id: UUID,
        *,
        ignore_capacity: bool = False,
        client: ClientInfo | None = None,
    ) -> RegistrationRow:
        """Confirm a waitlisted registration now, taking a free seat.

        With no seat free the answer is `no_seat_left`, unless `ignore_capacity`
        lets the event go over its capacity.
        """
        now = self._clock.now()
        mails = AfterCommit()
        async with self._uow() as uow:
            event, current = await self._own_locked(
                uow, actor, event_id, registration_id
            )
            if current.status is not RegistrationStatus.WAITLISTED:
                raise NotWaitlisted(
                    f"The registration is {current.status.value}, not waitlisted.",
                    registration_status=current.status.value,
                )
            _refuse_seats_if_cancelled(event)
            promoted = await self._promote(
                uow,
                event,
                current,
                replace(current, updated_at=now),
                now,
                actor,
                client,
                mails,
                ignore_capacity,
            )
            (row,) = await self._rows(uow, event, [promoted])
            await uow.commit()
        await self._handover.after_commit(mails)
        return row

    async def remove_from_waitlist(
        self,
        actor: Principal,
        event_id: UUID,
        registration_id: UUID,
        client: ClientInfo | None = None,
    ) -> None:
        """Take someone off the waitlist (they are cancelled); a held offer passes on.

        Removing someone already cancelled changes nothing.
        """
        now = self._clock.now()
        mails = AfterCommit()
        async with self._uow() as uow:
            event, current = await self._own_locked(
                uow, actor, event_id, registration_id
            )
            if current.status is RegistrationStatus.CANCELLED:
                return
            if current.status is not RegistrationStatus.WAITLISTED:
                raise NotWaitlisted(
                    f"The registration is {current.status.value}, not waitlisted.",
                    registration_status=current.status.value,
                )
            await self._cancel(
                uow,
                event,
                current,
                replace(current, updated_at=now),
                now,
                actor,
                client,
                mails,
                action="registrations.waitlist.removed",
            )
            await uow.commit()
        await self._handover.after_commit(mails)

    # -- offers --------------------------------------------------------------

    async def accept_offer(
        self, actor: Principal, registration_id: UUID, client: ClientInfo | None = None
    ) -> Registration:
        """The registrant takes the seat offered to them; accepting twice is fine.

        Only the account that made the registration, or one whose verified
        email is the registration's, may accept; anyone else gets not found.
        """
        now = self._clock.now()
        mails = AfterCommit()
        async with self._uow() as uow:
            current = await self._mine(uow, actor, registration_id)
            event = await uow.events.get(current.event_id)
            if event is None:
                raise NotFound("You have no registration with this id.")
            await uow.event_seats.lock(event.id)
            current = await self._mine(uow, actor, registration_id)
            if current.status.holds_seat:
                return current
            if (
                current.status is not RegistrationStatus.WAITLISTED
                or current.offer_expires_at is None
            ):
                raise NoOffer("No seat is offered to this registration.")
            _refuse_seats_if_cancelled(event)
            if current.offer_expires_at <= now:
                raise NoOffer(
                    "The offer has expired.",
                    code="offer_expired",
                    expired_at=current.offer_expires_at.isoformat(),
                )
            accepted = self._seated(replace(current, updated_at=now), event, now)
            accepted.user_id = accepted.user_id or actor.user_id
            await self._write(uow, current, accepted)
            await audit_registration(
                uow,
                "registrations.waitlist.offer_accepted",
                actor,
                accepted,
                client,
                at=self._clock.now(),
            )
            await self._handover.seated_in(uow, event, accepted, mails)
            await uow.commit()
        await self._handover.after_commit(mails)
        log.info(
            "registrations.waitlist.offer_accepted", registration_id=str(current.id)
        )
        if not mails.payments_due:
            return accepted
        async with self._uow() as uow:
            paid = await uow.registrations.get(accepted.id)
        return paid or accepted

    async def expire_offers(self) -> JobSummary:
        """Offers that ran out pass to the next in line, as a job's summary."""
        examined = expired = 0
        while True:
            now = self._clock.now()
            async with self._uow() as uow:
                holds = await uow.registrations.holds_expired(now, EXPIRY_BATCH)
            offers = [
                r
                for r in holds
                if r.status is RegistrationStatus.WAITLISTED
                and r.offer_expires_at is not None
            ]
            examined += len(offers)
            for offer in offers:
                expired += await self._expire_offer(offer.id, now)
            if not offers or len(holds) < EXPIRY_BATCH:
                if expired:
                    log.info("registrations.offers.expired", expired=expired)
                return JobSummary("expire-offers", examined=examined, changed=expired)

    async def _expire_offer(self, registration_id: UUID, now: datetime) -> int:
        mails = AfterCommit()
        async with self._uow() as uow:
            current = await uow.registrations.get(registration_id)
            event = None if current is None else await uow.events.get(current.event_id)
            if current is None or event is None:
                return 0
            await uow.event_seats.lock(event.id)
            current = await uow.registrations.get(registration_id)
            if (
                current is None
                or current.status is not RegistrationStatus.WAITLISTED
                or current.offer_expires_at is None
                or current.offer_expires_at > now
            ):
                return 0
            await self._cancel(
                uow,
                event,
                current,
                replace(current, updated_at=now),
                now,
                None,
                None,
                mails,
                action="registrations.waitlist.offer_expired",
            )
            await uow.commit()
        await self._handover.after_commit(mails)
        log.info(
            "registrations.waitlist.offer_expired",
            registration_id=str(registration_id),
            event_id=str(event.id),
        )
        return 1

    # -- the rules every change shares -------------------------------------

    async def _cancel(
        self,
        uow: UnitOfWork,
        event: Event,
        current: Registration,
        changed: Registration,
        now: datetime,
        actor: Principal | None,
        client: ClientInfo | None,
        mails: AfterCommit,
        *,
        action: str = "registrations.registration.cancelled",
    ) -> Registration:
        """End the registration's claim; a seat it held goes to the next in line."""
        changed.status = RegistrationStatus.CANCELLED
        changed.cancelled_at = now
        changed.hold_expires_at = None
        changed.offer_expires_at = None
        await self._write(uow, current, changed)
        await audit_registration(
            uow,
            action,
            actor,
            changed,
            client,
            from_status=current.status.value,
            at=self._clock.now(),
        )
        details = await self._details(uow, event, now)
        await self._mail(
            uow,
            offer_expired_mail(changed, details)
            if action == "registrations.waitlist.offer_expired"
            else cancellation_mail(changed, details),
            mails,
        )
        log.info(
            action,
            registration_id=str(current.id),
            event_id=str(event.id),
            from_status=current.status.value,
        )
        await self._handover.seat_freed(
            uow, event, current, now, mails, actor=actor, client=client
        )
        return changed

    async def _promote(
        self,
        uow: UnitOfWork,
        event: Event,
        current: Registration,
        changed: Registration,
        now: datetime,
        actor: Principal,
        client: ClientInfo | None,
        mails: AfterCommit,
        ignore_capacity: bool,
    ) -> Registration:
        """Confirm a waitlisted registration; a live offer already holds its seat."""
        if current.offer_expires_at is None and not await uow.event_seats.take(
            event.id, ignore_capacity=ignore_capacity
        ):
            raise NoSeatLeft(
                "No seat is free; cancel someone or promote with ignore_capacity.",
                capacity=event.capacity,
            )
        changed.status = RegistrationStatus.CONFIRMED
        changed.confirmed_at = now
        changed.waitlist_seq = None
        changed.offer_expires_at = None
        changed.hold_expires_at = None
        await self._write(uow, current, changed)
        await audit_registration(
            uow,
            "registrations.waitlist.promoted",
            actor,
            changed,
            client,
            by="organizer",
            ignore_capacity=ignore_capacity,
            at=self._clock.now(),
        )
        await self._handover.seated_in(uow, event, changed, mails)
        log.info(
            "registrations.waitlist.promoted",
            registration_id=str(current.id),
            event_id=str(event.id),
            by="organizer",
        )
        return changed

    def _seated(
        self, registration: Registration, event: Event, now: datetime
    ) -> Registration:
        registration.waitlist_seq = None
        registration.offer_expires_at = None
        if event.price == 0 or registration.amount == 0:
            registration.status = RegistrationStatus.CONFIRMED
            registration.confirmed_at = now
        else:
            registration.status = RegistrationStatus.PENDING_PAYMENT
            registration.hold_expires_at = now + self._handover.payment_hold
        return registration

    async def _details(
        self, uow: UnitOfWork, event: Event, now: datetime
    ) -> EventDetails:
        return await event_details(uow, event, now=now, calendar=self._calendar)

    @staticmethod
    async def _write(
        uow: UnitOfWork, current: Registration, changed: Registration
    ) -> None:
        if not await uow.registrations.change_status(
            current.id, current.status, changed
        ):
            raise Conflict(
                "The registration changed meanwhile; read it again.",
                code="registration_changed",
            )

    async def _mail(
        self, uow: UnitOfWork, message: MailMessage, mails: AfterCommit
    ) -> None:
        mails.ids.append(await enqueue_mail(uow.outbox, message, self._clock))

    @staticmethod
    async def _own(
        uow: UnitOfWork, actor: Principal, event_id: UUID, registration_id: UUID
    ) -> tuple[Event, Registration]:
        event = await own_event(uow, actor, event_id)
        registration = await uow.registrations.get(registration_id)
        if registration is None or registration.event_id != event.id:
            raise NotFound(
                "The event has no registration with this id.",
                resource="registration",
            )
        return event, registration

    @classmethod
    async def _own_locked(
        cls, uow: UnitOfWork, actor: Principal, event_id: UUID, registration_id: UUID
    ) -> tuple[Event, Registration]:
        """The registration read again under its event's seat lock."""
        event, _ = await cls._own(uow, actor, event_id, registration_id)
        await uow.event_seats.lock(event.id)
        return await cls._own(uow, actor, event_id, registration_id)

    @staticmethod
    async def _mine(
        uow: UnitOfWork, actor: Principal, registration_id: UUID
    ) -> Registration:
        registration = await uow.registrations.get(registration_id)
        if registration is not None and registration.user_id != actor.user_id:
            user = await uow.users.get(actor.user_id)
            if (
                user is None
                or not user.is_verified
                or normalize_email(user.email) != registration.email_key
            ):
                registration = None
        if registration is None:
            raise NotFound(
                "You have no registration with this id.", resource="registration"
            )
        return registration

    @staticmethod
    async def _rows(
        uow: UnitOfWork, event: Event, registrations: Sequence[Registration]
    ) -> list[RegistrationRow]:
        positions: dict[UUID, int] = {}
        if any(r.status is RegistrationStatus.WAITLISTED for r in registrations):
            waiting = await uow.registrations.waitlist(event.id)
            positions = {r.id: rank for rank, r in enumerate(waiting, start=1)}
        codes: dict[UUID, str] = {}
        for code_id in {r.promo_code_id for r in registrations} - {None}:
            assert code_id is not None
            found = await uow.promo_codes.get(code_id)
            if found is not None:
                codes[code_id] = found.code
        return [
            RegistrationRow(
                registration=r,
                waitlist_position=positions.get(r.id),
                promo_code=codes.get(r.promo_code_id) if r.promo_code_id else None,
            )
            for r in registrations
        ]


def _status(value: object) -> RegistrationStatus:
    try:
        return RegistrationStatus(str(value))
    except ValueError:
        _refuse(
            "status",
            "invalid",
            "One of " + ", ".join(s.value for s in RegistrationStatus) + ".",
        )


def _refuse(name: str, code: str, message: str) -> NoReturn:
    errors = FieldErrors()
    errors.add(name, code, message)
    raise ValidationFailed("The request has invalid fields.", errors=errors.items)


def _csv(rows: Sequence[RegistrationRow], fields: Sequence[CustomField]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow([*EXPORT_COLUMNS, *(cell(f.label) for f in fields)])
    for row in rows:
        r = row.registration
        writer.writerow(
            [
                cell(value)
                for value in (
                    r.id,
                    r.status.value,
                    r.email,
                    r.first_name,
                    r.last_name,
                    r.amount,
                    r.currency,
                    row.promo_code,
                    row.waitlist_position,
                    r.note,
                    r.source.value,
                    r.created_at,
                    r.confirmed_at,
                    r.cancelled_at,
                    *(r.answers.get(str(f.id)) for f in fields),
                )
            ]
        )
    return buffer.getvalue().encode("utf-8")
