"""The registrations repository, on every backend."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from platform_core.events.fields import CustomField, FieldType
from platform_core.events.model import Event
from platform_core.registrations.model import (
    Registration,
    RegistrationFilter,
    RegistrationSource,
    RegistrationStatus,
)
from platform_core.registrations.ports import DuplicateRegistration
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

from .support import NOW, Given, a_user, an_event, in_parallel

PLUS_TWO = timezone(timedelta(hours=2))
_serial = itertools.count(1)


def a_registration(event: Event, **fields: Any) -> Registration:
    n = next(_serial)
    defaults: dict[str, Any] = {
        "event_id": event.id,
        "email": f"person{n}@example.org",
        "first_name": "Grace",
        "last_name": f"Hopper{n}",
        "status": RegistrationStatus.CONFIRMED,
        "created_at": NOW + timedelta(seconds=n),
        "arrival": n,
    }
    return Registration(**(defaults | fields))


def a_field(event: Event) -> CustomField:
    return CustomField(
        event_id=event.id,
        label="Job title",
        field_type=FieldType.SHORT_TEXT,
        created_at=NOW,
    )


async def add(uow_factory: UnitOfWorkFactory, *items: Registration) -> None:
    async with uow_factory() as uow:
        for item in items:
            await uow.registrations.add(item)
        await uow.commit()


async def stored(uow_factory: UnitOfWorkFactory, registration_id: UUID) -> Registration:
    async with uow_factory() as uow:
        found = await uow.registrations.get(registration_id)
    assert found is not None
    return found


@pytest.fixture
async def event(given: Given) -> Event:
    organizer = a_user()
    event = an_event(organizer, capacity=10, waitlist_enabled=True)
    await given(organizer, event)
    return event


@pytest.fixture
async def field(uow_factory: UnitOfWorkFactory, event: Event) -> CustomField:
    item = a_field(event)
    async with uow_factory() as uow:
        await uow.custom_fields.add(item)
        await uow.commit()
    return item


class TestAdd:
    async def test_every_field_survives_the_round_trip(
        self,
        uow_factory: UnitOfWorkFactory,
        given: Given,
        event: Event,
        field: CustomField,
    ) -> None:
        person = a_user()
        await given(person)
        registration = a_registration(
            event,
            email="Grace.Hopper@Example.org",
            user_id=person.id,
            status=RegistrationStatus.PENDING_PAYMENT,
            source=RegistrationSource.BULK,
            answers={str(field.id): "Rear admiral — café"},
            list_price=12_500,
            discount=2_500,
            currency="EUR",
            promo_code_id=new_id(),
            waitlist_seq=7,
            hold_expires_at=(NOW + timedelta(minutes=15)).astimezone(PLUS_TWO),
            offer_expires_at=NOW + timedelta(hours=1, microseconds=1),
            payment_ref="cs_test_123",
            note="Needs a ramp.\nSecond line.",
            confirmed_at=NOW + timedelta(seconds=1),
            cancelled_at=NOW + timedelta(seconds=2),
            updated_at=(NOW + timedelta(seconds=3)).astimezone(PLUS_TWO),
        )

        await add(uow_factory, registration)

        found = await stored(uow_factory, registration.id)
        assert found == registration
        assert found.hold_expires_at is not None
        assert found.hold_expires_at.utcoffset() is not None
        assert found.amount == 10_000

    async def test_answers_keep_their_json_types(
        self, uow_factory: UnitOfWorkFactory, event: Event, given: Given
    ) -> None:
        fields = [a_field(event) for _ in range(4)]
        async with uow_factory() as uow:
            for item in fields:
                await uow.custom_fields.add(item)
            await uow.commit()
        answers: dict[str, Any] = dict(
            zip(
                (str(f.id) for f in fields),
                [3, 2.5, True, ["Vegan", "No nuts"]],
                strict=True,
            )
        )
        registration = a_registration(event, answers=answers)

        await add(uow_factory, registration)

        found = (await stored(uow_factory, registration.id)).answers
        assert found == answers
        assert {k: type(v) for k, v in found.items()} == {
            k: type(v) for k, v in answers.items()
        }

    async def test_a_second_active_registration_for_the_same_email_is_refused(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        await add(uow_factory, a_registration(event, email="ada@example.org"))

        with pytest.raises(DuplicateRegistration):
            await add(uow_factory, a_registration(event, email="ADA@example.org"))

    async def test_the_transaction_survives_a_refused_duplicate(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        await add(uow_factory, a_registration(event, email="ada@example.org"))
        other = a_registration(event)

        async with uow_factory() as uow:
            with pytest.raises(DuplicateRegistration):
                await uow.registrations.add(
                    a_registration(event, email="ada@example.org")
                )
            await uow.registrations.add(other)
            await uow.commit()

        assert (await stored(uow_factory, other.id)).id == other.id

    async def test_a_cancelled_registration_does_not_block_a_new_one(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        first = a_registration(
            event, email="ada@example.org", status=RegistrationStatus.CANCELLED
        )
        again = a_registration(event, email="ada@example.org")

        await add(uow_factory, first, again)

        async with uow_factory() as uow:
            active = await uow.registrations.active_for_email(
                event.id, "ada@example.org"
            )
        assert active is not None
        assert active.id == again.id

    async def test_the_same_email_may_register_for_another_event(
        self, uow_factory: UnitOfWorkFactory, event: Event, given: Given
    ) -> None:
        other = an_event(a_user(id=event.organizer_id))
        await given(other)

        await add(
            uow_factory,
            a_registration(event, email="ada@example.org"),
            a_registration(other, email="ada@example.org"),
        )

    async def test_concurrent_duplicates_leave_exactly_one(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async def register(uow: UnitOfWork) -> bool:
            try:
                await uow.registrations.add(
                    a_registration(event, email="ada@example.org")
                )
            except DuplicateRegistration:
                return False
            return True

        results = await in_parallel(uow_factory, 8, register)

        assert results.count(True) == 1


class TestUpdate:
    async def test_answers_are_replaced_as_a_whole(
        self, uow_factory: UnitOfWorkFactory, event: Event, field: CustomField
    ) -> None:
        second = a_field(event)
        async with uow_factory() as uow:
            await uow.custom_fields.add(second)
            await uow.commit()
        registration = a_registration(event, answers={str(field.id): "Engineer"})
        await add(uow_factory, registration)

        changed = replace(registration, answers={str(second.id): "Admiral"}, note="x")
        async with uow_factory() as uow:
            await uow.registrations.update(changed)
            await uow.commit()

        assert await stored(uow_factory, registration.id) == changed

    async def test_updating_an_unknown_registration_raises(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        async with uow_factory() as uow:
            with pytest.raises(KeyError):
                await uow.registrations.update(a_registration(event))


class TestChangeStatus:
    async def test_writes_only_while_the_status_is_the_expected_one(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        registration = a_registration(event, status=RegistrationStatus.WAITLISTED)
        await add(uow_factory, registration)
        promoted = replace(registration, status=RegistrationStatus.CONFIRMED)

        async with uow_factory() as uow:
            first = await uow.registrations.change_status(
                registration.id, RegistrationStatus.WAITLISTED, promoted
            )
            second = await uow.registrations.change_status(
                registration.id,
                RegistrationStatus.WAITLISTED,
                replace(registration, status=RegistrationStatus.CANCELLED),
            )
            await uow.commit()

        assert (first, second) == (True, False)
        assert (await stored(uow_factory, registration.id)).status == "confirmed"

    async def test_concurrent_changes_succeed_exactly_once(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        registration = a_registration(event, status=RegistrationStatus.PENDING_PAYMENT)
        await add(uow_factory, registration)

        async def confirm(uow: UnitOfWork) -> bool:
            return await uow.registrations.change_status(
                registration.id,
                RegistrationStatus.PENDING_PAYMENT,
                replace(registration, status=RegistrationStatus.CONFIRMED),
            )

        results = await in_parallel(uow_factory, 10, confirm)

        assert results.count(True) == 1


class TestWaitlist:
    async def test_the_waitlist_is_in_arrival_order_and_ranks_follow_it(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        waiting = RegistrationStatus.WAITLISTED
        third = a_registration(event, status=waiting, waitlist_seq=30)
        first = a_registration(event, status=waiting, waitlist_seq=10)
        second = a_registration(event, status=waiting, waitlist_seq=20)
        seated = a_registration(event)
        await add(uow_factory, third, first, second, seated)

        async with uow_factory() as uow:
            order = [r.id for r in await uow.registrations.waitlist(event.id)]
            ranks = [
                await uow.registrations.waitlist_rank(r)
                for r in (first, second, third, seated)
            ]
            head = await uow.registrations.first_waiting(event.id)

        assert order == [first.id, second.id, third.id]
        assert ranks == [1, 2, 3, None]
        assert head is not None
        assert head.id == first.id

    async def test_someone_holding_an_offer_is_not_the_next_to_promote(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        waiting = RegistrationStatus.WAITLISTED
        offered = a_registration(
            event,
            status=waiting,
            waitlist_seq=1,
            offer_expires_at=NOW + timedelta(hours=1),
        )
        next_one = a_registration(event, status=waiting, waitlist_seq=2)
        await add(uow_factory, offered, next_one)

        async with uow_factory() as uow:
            head = await uow.registrations.first_waiting(event.id)
            holding = await uow.registrations.count_holding_seats(event.id)

        assert head is not None
        assert head.id == next_one.id
        assert holding == 1

    async def test_an_empty_waitlist_has_no_head(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        await add(uow_factory, a_registration(event))

        async with uow_factory() as uow:
            assert await uow.registrations.first_waiting(event.id) is None


class TestHoldsExpired:
    async def test_finds_ended_payment_holds_and_offers_oldest_first(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        pending = RegistrationStatus.PENDING_PAYMENT
        late_hold = a_registration(
            event, status=pending, hold_expires_at=NOW - timedelta(minutes=1)
        )
        old_offer = a_registration(
            event,
            status=RegistrationStatus.WAITLISTED,
            waitlist_seq=1,
            offer_expires_at=NOW - timedelta(hours=1),
        )
        live_hold = a_registration(
            event, status=pending, hold_expires_at=NOW + timedelta(minutes=1)
        )
        confirmed = a_registration(event, hold_expires_at=NOW - timedelta(days=1))
        await add(uow_factory, late_hold, old_offer, live_hold, confirmed)

        async with uow_factory() as uow:
            found = await uow.registrations.holds_expired(NOW, 10)
            limited = await uow.registrations.holds_expired(NOW, 1)

        assert [r.id for r in found] == [old_offer.id, late_hold.id]
        assert [r.id for r in limited] == [old_offer.id]


class TestListing:
    async def test_an_events_list_filters_by_status_and_searches_names_and_emails(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        ada = a_registration(event, email="ada@example.org", first_name="Ada")
        grace = a_registration(
            event,
            email="g@navy.example",
            first_name="Grace",
            last_name="Hopper",
            status=RegistrationStatus.WAITLISTED,
            waitlist_seq=1,
        )
        await add(uow_factory, ada, grace)

        async with uow_factory() as uow:
            regs = uow.registrations
            everyone, total = await regs.list_for_event(
                event.id, RegistrationFilter(), offset=0, limit=10
            )
            waiting, _ = await regs.list_for_event(
                event.id,
                RegistrationFilter(status=RegistrationStatus.WAITLISTED),
                offset=0,
                limit=10,
            )
            by_name, _ = await regs.list_for_event(
                event.id, RegistrationFilter(search="grace hop"), offset=0, limit=10
            )
            by_email, _ = await regs.list_for_event(
                event.id, RegistrationFilter(search="ADA@"), offset=0, limit=10
            )
            page, paged_total = await regs.list_for_event(
                event.id, RegistrationFilter(), offset=1, limit=1
            )

        assert [r.id for r in everyone] == [ada.id, grace.id]
        assert total == 2
        assert [r.id for r in waiting] == [grace.id]
        assert [r.id for r in by_name] == [grace.id]
        assert [r.id for r in by_email] == [ada.id]
        assert ([r.id for r in page], paged_total) == ([grace.id], 2)

    async def test_a_search_treats_wildcards_literally(
        self, uow_factory: UnitOfWorkFactory, event: Event
    ) -> None:
        await add(uow_factory, a_registration(event, first_name="Ada"))

        async with uow_factory() as uow:
            found, total = await uow.registrations.list_for_event(
                event.id, RegistrationFilter(search="%"), offset=0, limit=10
            )

        assert (list(found), total) == ([], 0)

    async def test_a_persons_list_holds_their_own_and_their_emails_newest_first(
        self, uow_factory: UnitOfWorkFactory, event: Event, given: Given
    ) -> None:
        person = a_user()
        other_event = an_event(a_user(id=event.organizer_id))
        await given(person, other_event)
        own = a_registration(event, user_id=person.id, email="ada@example.org")
        as_guest = a_registration(other_event, email="Ada@Example.org")
        someone_else = a_registration(other_event)
        await add(uow_factory, own, as_guest, someone_else)

        async with uow_factory() as uow:
            regs = uow.registrations
            with_email, total = await regs.list_for_person(
                person.id, "ada@example.org", offset=0, limit=10
            )
            without_email, _ = await regs.list_for_person(
                person.id, None, offset=0, limit=10
            )

        assert [r.id for r in with_email] == [as_guest.id, own.id]
        assert total == 2
        assert [r.id for r in without_email] == [own.id]


class TestCounts:
    async def test_counts_seats_confirmed_active_and_what_exists(
        self, uow_factory: UnitOfWorkFactory, event: Event, given: Given
    ) -> None:
        empty = an_event(a_user(id=event.organizer_id))
        await given(empty)
        await add(
            uow_factory,
            a_registration(event),
            a_registration(event, status=RegistrationStatus.PENDING_PAYMENT),
            a_registration(event, status=RegistrationStatus.WAITLISTED, waitlist_seq=1),
            a_registration(event, status=RegistrationStatus.CANCELLED),
        )

        async with uow_factory() as uow:
            regs = uow.registrations
            assert await regs.count_holding_seats(event.id) == 2
            assert await regs.count_confirmed(event.id) == 1
            assert await regs.count_active(event.id) == 3
            assert await regs.count_active(empty.id) == 0
            assert await regs.exists_for_event(event.id) is True
            assert await regs.exists_for_event(empty.id) is False

    async def test_a_field_has_answers_once_someone_answered_it(
        self, uow_factory: UnitOfWorkFactory, event: Event, field: CustomField
    ) -> None:
        unanswered = a_field(event)
        async with uow_factory() as uow:
            await uow.custom_fields.add(unanswered)
            await uow.commit()
        await add(uow_factory, a_registration(event, answers={str(field.id): "x"}))

        async with uow_factory() as uow:
            assert await uow.registrations.field_has_answers(field.id) is True
            assert await uow.registrations.field_has_answers(unanswered.id) is False

    async def test_promo_uses_count_active_registrations_of_the_email(
        self, uow_factory: UnitOfWorkFactory, event: Event, given: Given
    ) -> None:
        code_id = new_id()
        other = an_event(a_user(id=event.organizer_id))
        await given(other)
        await add(
            uow_factory,
            a_registration(event, email="ada@example.org", promo_code_id=code_id),
            a_registration(other, email="ADA@example.org", promo_code_id=code_id),
            a_registration(
                other,
                email="ada@example.org",
                promo_code_id=code_id,
                status=RegistrationStatus.CANCELLED,
            ),
            a_registration(event, promo_code_id=code_id),
        )

        async with uow_factory() as uow:
            uses = await uow.registrations.count_promo_uses(code_id, "ada@example.org")

        assert uses == 2
