"""An organizer's management of registrations and the waitlist, on memory adapters."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.events.custom_fields import CustomFieldInput
from platform_core.events.fields import FieldType
from platform_core.events.model import Event
from platform_core.identity.model import Principal
from platform_core.registrations.management import (
    BULK_MAX,
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
from platform_core.shared.errors import Conflict, NotFound, ValidationFailed
from platform_core.shared.pagination import PageRequest
from tests.unit.registrations.support import OrganizerWorld, organizer_core

ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER, Capability.CUSTOM_FIELDS}),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: None},
)


def person(number: int, **fields: Any) -> PersonInput:
    values: dict[str, Any] = {
        "email": f"person{number}@example.org",
        "first_name": f"First{number}",
        "last_name": f"Last{number}",
        **fields,
    }
    return PersonInput(**values)


@dataclasses.dataclass
class World(OrganizerWorld):
    bob: Principal = dataclasses.field(kw_only=True)

    async def add(
        self, event: Event, *numbers: int, ignore_capacity: bool = False
    ) -> list[BulkRowResult]:
        return await self.platform.registration_admin.bulk_add(
            self.ada,
            event.id,
            [person(n) for n in numbers],
            ignore_capacity=ignore_capacity,
        )

    async def row(self, event: Event, registration_id: UUID) -> RegistrationRow:
        return await self.platform.registration_admin.get_registration(
            self.ada, event.id, registration_id
        )

    async def statuses(self, event: Event) -> dict[str, RegistrationStatus]:
        page = await self.platform.registration_admin.list_registrations(
            self.ada, event.id, RegistrationFilter(), PageRequest(page_size=100)
        )
        return {r.registration.email: r.registration.status for r in page.items}

    async def pending(self, event: Event, number: int) -> Registration:
        """A pending-payment registration holding a seat, as a checkout leaves it."""
        async with self.adapters.ports().uow_factory() as uow:
            assert await uow.event_seats.take(event.id)
            registration = Registration(
                event_id=event.id,
                email=f"person{number}@example.org",
                first_name="Pat",
                last_name="Pending",
                status=RegistrationStatus.PENDING_PAYMENT,
                created_at=self.adapters.clock.now(),
                list_price=event.price,
                currency=event.currency,
                hold_expires_at=self.adapters.clock.now() + timedelta(minutes=15),
            )
            await uow.registrations.add(registration)
            await uow.commit()
        return registration

    async def mails_to(self, address: str) -> list[str]:
        await self.platform.outbox.drain()
        return [
            f"{sent.message.subject}\n{sent.message.text}"
            for sent in self.adapters.mailer.sent
            if sent.message.to == address
        ]


@pytest.fixture
async def world() -> World:
    core, ada = await organizer_core(plan=ORGANIZER)
    bob = await core.principal(await core.verified_user("bob@example.org"))
    await core.platform.billing.subscribe(bob, plan_code="organizer", interval="month")
    return World(core, ada, bob=bob)


class TestListing:
    async def test_filters_by_status_and_searches_names_and_emails(
        self, world: World
    ) -> None:
        event = await world.event(capacity=2, waitlist_enabled=True)
        await world.add(event, 1, 2, 3)
        admin = world.platform.registration_admin

        waiting = await admin.list_registrations(
            world.ada,
            event.id,
            RegistrationFilter(status=RegistrationStatus.WAITLISTED),
            PageRequest(),
        )
        found = await admin.list_registrations(
            world.ada, event.id, RegistrationFilter(search="LAST2"), PageRequest()
        )
        paged = await admin.list_registrations(
            world.ada, event.id, RegistrationFilter(), PageRequest(page=2, page_size=2)
        )

        assert [r.registration.email for r in waiting.items] == ["person3@example.org"]
        assert waiting.items[0].waitlist_position == 1
        assert [r.registration.email for r in found.items] == ["person2@example.org"]
        assert paged.total == 3
        assert len(paged.items) == 1

    async def test_other_organizers_event_is_not_found(self, world: World) -> None:
        event = await world.event()
        admin = world.platform.registration_admin

        with pytest.raises(NotFound):
            await admin.list_registrations(
                world.bob, event.id, RegistrationFilter(), PageRequest()
            )
        with pytest.raises(NotFound):
            await admin.bulk_add(world.bob, event.id, [person(1)])
        with pytest.raises(NotFound):
            await admin.export_csv(world.bob, event.id)

    async def test_a_registration_of_another_event_is_not_found(
        self, world: World
    ) -> None:
        first = await world.event()
        second = await world.event()
        (added,) = await world.add(first, 1)
        assert added.registration is not None

        with pytest.raises(NotFound):
            await world.platform.registration_admin.cancel_registration(
                world.ada, second.id, added.registration.id
            )


class TestExport:
    async def test_csv_has_every_field_and_one_column_per_custom_field(
        self, world: World
    ) -> None:
        event = await world.event()
        job = await world.platform.custom_fields.add_field(
            world.ada,
            event.id,
            CustomFieldInput(label="Job title", field_type=FieldType.SHORT_TEXT),
        )
        await world.platform.registration_admin.bulk_add(
            world.ada,
            event.id,
            [
                person(1, answers={str(job.id): '=HYPERLINK("x")'}),
                person(2, first_name="@Bob", last_name="-Minus"),
            ],
        )

        export = await world.platform.registration_admin.export_csv(world.ada, event.id)
        rows = list(csv.reader(io.StringIO(export.content.decode("utf-8"))))

        assert export.filename == f"{event.slug}-registrations.csv"
        assert rows[0][-1] == "Job title"
        assert rows[0][:5] == ["uuid", "status", "email", "first_name", "last_name"]
        assert len(rows) == 3
        assert rows[1][-1] == '\'=HYPERLINK("x")'
        assert rows[2][3:5] == ["'@Bob", "'-Minus"]
        assert rows[1][1] == "confirmed"


class TestBulkAdd:
    async def test_each_row_is_added_skipped_or_refused_on_its_own(
        self, world: World
    ) -> None:
        event = await world.event()
        field = await world.platform.custom_fields.add_field(
            world.ada,
            event.id,
            CustomFieldInput(
                label="Licence", field_type=FieldType.SHORT_TEXT, required=True
            ),
        )
        answer = {str(field.id): "L-1"}
        await world.platform.registration_admin.bulk_add(
            world.ada, event.id, [person(9, answers=answer)]
        )

        results = await world.platform.registration_admin.bulk_add(
            world.ada,
            event.id,
            [
                person(1, answers=answer),
                person(2, email="not an email", answers=answer),
                person(3),
                person(1, email="PERSON1@example.org", answers=answer),
                person(9, answers=answer),
                person(4, answers=answer, promo_code="SAVE"),
            ],
        )

        outcomes = [(r.index, r.outcome, r.code) for r in results]
        assert outcomes == [
            (0, BulkOutcome.ADDED, None),
            (1, BulkOutcome.REFUSED, "validation_error"),
            (2, BulkOutcome.REFUSED, "validation_error"),
            (3, BulkOutcome.SKIPPED, "duplicate_in_request"),
            (4, BulkOutcome.SKIPPED, "already_registered"),
            (5, BulkOutcome.REFUSED, "promo_code_not_applicable"),
        ]
        assert {e.field for e in results[1].errors} == {"email"}
        assert {e.code for e in results[2].errors} == {"required"}
        assert await world.statuses(event) == {
            "person9@example.org": RegistrationStatus.CONFIRMED,
            "person1@example.org": RegistrationStatus.CONFIRMED,
        }

    async def test_full_event_puts_rows_on_the_waitlist_or_refuses_them(
        self, world: World
    ) -> None:
        with_waitlist = await world.event(capacity=1, waitlist_enabled=True)
        without = await world.event(capacity=1)

        queued = await world.add(with_waitlist, 1, 2, 3)
        refused = await world.add(without, 1, 2)

        assert [r.registration.status for r in queued if r.registration] == [
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.WAITLISTED,
            RegistrationStatus.WAITLISTED,
        ]
        assert [(r.outcome, r.code) for r in refused] == [
            (BulkOutcome.ADDED, None),
            (BulkOutcome.REFUSED, "event_full"),
        ]
        assert await world.taken(without) == 1

    async def test_ignore_capacity_seats_everyone_past_the_capacity(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)

        results = await world.add(event, 1, 2, 3, ignore_capacity=True)

        assert all(r.outcome is BulkOutcome.ADDED for r in results)
        assert await world.taken(event) == 3

    async def test_more_than_the_limit_is_refused_whole(self, world: World) -> None:
        event = await world.event()

        with pytest.raises(ValidationFailed) as refused:
            await world.add(event, *range(BULK_MAX + 1))

        assert refused.value.errors[0].code == "too_many"
        assert await world.statuses(event) == {}

    async def test_a_cancelled_event_takes_no_one(self, world: World) -> None:
        event = await world.event()
        await world.platform.events.cancel_event(world.ada, event.id)

        with pytest.raises(Conflict) as refused:
            await world.add(event, 1)

        assert refused.value.code == "event_cancelled"


class TestUpdating:
    async def test_note_and_answers_are_checked_and_kept(self, world: World) -> None:
        event = await world.event()
        field = await world.platform.custom_fields.add_field(
            world.ada,
            event.id,
            CustomFieldInput(label="Age", field_type=FieldType.NUMBER),
        )
        (added,) = await world.add(event, 1)
        assert added.registration is not None
        admin = world.platform.registration_admin

        row = await admin.update_registration(
            world.ada,
            event.id,
            added.registration.id,
            {"note": "VIP", "answers": {str(field.id): 42}},
        )
        with pytest.raises(ValidationFailed) as bad_answer:
            await admin.update_registration(
                world.ada,
                event.id,
                added.registration.id,
                {"answers": {str(field.id): "old"}},
            )
        with pytest.raises(ValidationFailed) as long_note:
            await admin.update_registration(
                world.ada, event.id, added.registration.id, {"note": "x" * 2001}
            )

        assert row.registration.note == "VIP"
        assert row.registration.answers == {str(field.id): 42}
        assert bad_answer.value.errors[0].field == f"answers.{field.id}"
        assert long_note.value.errors[0].code == "too_long"
        saved = await world.row(event, added.registration.id)
        assert saved.registration.note == "VIP"
        assert "registrations.registration.updated" in world.audit_actions()

    async def test_a_move_that_is_not_allowed_is_refused_naming_it(
        self, world: World
    ) -> None:
        event = await world.event()
        (added,) = await world.add(event, 1)
        assert added.registration is not None

        with pytest.raises(Conflict) as refused:
            await world.platform.registration_admin.update_registration(
                world.ada, event.id, added.registration.id, {"status": "waitlisted"}
            )

        assert refused.value.code == "transition_not_allowed"
        assert refused.value.extra["from_status"] == "confirmed"
        assert refused.value.extra["to_status"] == "waitlisted"
        assert refused.value.extra["allowed"] == ["cancelled"]

    async def test_a_pending_payment_can_be_marked_paid(self, world: World) -> None:
        event = await world.event(price=2500, currency="EUR", capacity=3)
        pending = await world.pending(event, 1)

        row = await world.platform.registration_admin.update_registration(
            world.ada, event.id, pending.id, {"status": "confirmed"}
        )

        assert row.registration.status is RegistrationStatus.CONFIRMED
        assert row.registration.hold_expires_at is None
        assert await world.taken(event) == 1

    async def test_promoting_by_status_needs_a_free_seat(self, world: World) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        _, second = await world.add(event, 1, 2)
        assert second.registration is not None

        with pytest.raises(Conflict) as refused:
            await world.platform.registration_admin.update_registration(
                world.ada, event.id, second.registration.id, {"status": "confirmed"}
            )

        assert refused.value.code == "no_seat_left"
        assert await world.taken(event) == 1


class TestCancelling:
    async def test_cancelling_promotes_the_first_waitlisted_and_mails_them(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        first, second, third = await world.add(event, 1, 2, 3)
        assert first.registration is not None

        row = await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )

        assert row.registration.status is RegistrationStatus.CANCELLED
        assert await world.statuses(event) == {
            "person1@example.org": RegistrationStatus.CANCELLED,
            "person2@example.org": RegistrationStatus.CONFIRMED,
            "person3@example.org": RegistrationStatus.WAITLISTED,
        }
        assert await world.taken(event) == 1
        assert any("A seat is yours" in m for m in await world.mails_to(second.email))
        assert any("cancelled" in m for m in await world.mails_to(first.email))
        assert "registrations.waitlist.promoted" in world.audit_actions()
        assert "registrations.registration.cancelled" in world.audit_actions()
        assert third.registration is not None
        assert (await world.row(event, third.registration.id)).waitlist_position == 1

    async def test_cancelling_twice_changes_nothing_the_second_time(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        first, *_ = await world.add(event, 1, 2, 3)
        assert first.registration is not None
        admin = world.platform.registration_admin
        once = await admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )
        audited = len(world.audit_actions())

        twice = await admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )

        assert twice.registration == once.registration
        assert len(world.audit_actions()) == audited
        assert (await world.statuses(event))["person3@example.org"] is (
            RegistrationStatus.WAITLISTED
        )

    @pytest.mark.parametrize("offer_hours", [None, 24])
    async def test_on_an_overbooked_event_nobody_moves_up_until_a_seat_is_free(
        self, world: World, offer_hours: int | None
    ) -> None:
        event = await world.event(
            capacity=1, waitlist_enabled=True, waitlist_offer_hours=offer_hours
        )
        first, second = await world.add(event, 1, 2, ignore_capacity=True)
        (third,) = await world.add(event, 3)
        assert first.registration is not None
        assert second.registration is not None
        assert third.registration is not None
        admin = world.platform.registration_admin

        await admin.cancel_registration(world.ada, event.id, first.registration.id)

        assert await world.statuses(event) == {
            "person1@example.org": RegistrationStatus.CANCELLED,
            "person2@example.org": RegistrationStatus.CONFIRMED,
            "person3@example.org": RegistrationStatus.WAITLISTED,
        }
        assert (await world.row(event, third.registration.id)).registration == (
            third.registration
        )
        assert await world.taken(event) == 1

        await admin.cancel_registration(world.ada, event.id, second.registration.id)

        moved_up = (await world.row(event, third.registration.id)).registration
        if offer_hours is None:
            assert moved_up.status is RegistrationStatus.CONFIRMED
        else:
            assert moved_up.status is RegistrationStatus.WAITLISTED
            assert moved_up.offer_expires_at is not None
        assert await world.taken(event) == 1

    async def test_cancelling_without_a_waitlist_frees_the_seat(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1)
        (first,) = await world.add(event, 1)
        assert first.registration is not None

        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, first.registration.id
        )

        assert await world.taken(event) == 0


class TestPaidEvents:
    async def test_someone_added_free_is_confirmed_when_promoted_on_a_paid_event(
        self, world: World
    ) -> None:
        event = await world.event(
            capacity=1, waitlist_enabled=True, price=2500, currency="EUR"
        )
        pending = await world.pending(event, 1)
        (second,) = await world.add(event, 2)
        assert second.registration is not None

        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, pending.id
        )

        promoted = await world.row(event, second.registration.id)
        assert promoted.registration.status is RegistrationStatus.CONFIRMED
        assert await world.taken(event) == 1


class TestWaitlist:
    async def test_waitlist_is_in_arrival_order_with_positions(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        await world.add(event, 1, 2, 3, 4)

        rows = await world.platform.registration_admin.waitlist(world.ada, event.id)

        assert [(r.registration.email, r.waitlist_position) for r in rows] == [
            ("person2@example.org", 1),
            ("person3@example.org", 2),
            ("person4@example.org", 3),
        ]

    async def test_promote_needs_a_seat_unless_capacity_is_ignored(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        _, second = await world.add(event, 1, 2)
        assert second.registration is not None
        admin = world.platform.registration_admin

        with pytest.raises(Conflict) as refused:
            await admin.promote(world.ada, event.id, second.registration.id)
        row = await admin.promote(
            world.ada, event.id, second.registration.id, ignore_capacity=True
        )

        assert refused.value.code == "no_seat_left"
        assert row.registration.status is RegistrationStatus.CONFIRMED
        assert row.waitlist_position is None
        assert await world.taken(event) == 2

    async def test_promoting_someone_not_waitlisted_is_a_conflict(
        self, world: World
    ) -> None:
        event = await world.event()
        (first,) = await world.add(event, 1)
        assert first.registration is not None

        with pytest.raises(Conflict) as refused:
            await world.platform.registration_admin.promote(
                world.ada, event.id, first.registration.id
            )

        assert refused.value.code == "not_waitlisted"

    async def test_removing_from_the_waitlist_cancels_and_audits(
        self, world: World
    ) -> None:
        event = await world.event(capacity=1, waitlist_enabled=True)
        _, second, third = await world.add(event, 1, 2, 3)
        assert second.registration is not None
        assert third.registration is not None
        admin = world.platform.registration_admin

        await admin.remove_from_waitlist(world.ada, event.id, second.registration.id)
        await admin.remove_from_waitlist(world.ada, event.id, second.registration.id)

        assert (await world.statuses(event))["person2@example.org"] is (
            RegistrationStatus.CANCELLED
        )
        assert world.audit_actions().count("registrations.waitlist.removed") == 1
        assert (await world.row(event, third.registration.id)).waitlist_position == 1
        assert await world.taken(event) == 1


class TestOffers:
    async def offered(self, world: World) -> tuple[Event, list[BulkRowResult]]:
        event = await world.event(
            capacity=1, waitlist_enabled=True, waitlist_offer_hours=24
        )
        rows = await world.add(event, 1, 2, 3)
        assert rows[0].registration is not None
        await world.platform.registration_admin.cancel_registration(
            world.ada, event.id, rows[0].registration.id
        )
        return event, rows

    async def test_a_freed_seat_is_offered_to_the_first_waitlisted(
        self, world: World
    ) -> None:
        event, rows = await self.offered(world)
        assert rows[1].registration is not None

        offered = await world.row(event, rows[1].registration.id)

        assert offered.registration.status is RegistrationStatus.WAITLISTED
        assert offered.registration.offer_expires_at == (
            world.adapters.clock.now() + timedelta(hours=24)
        )
        assert await world.taken(event) == 1
        mails = await world.mails_to("person2@example.org")
        assert any(
            f"https://app.test/registrations/{offered.registration.id}" in m
            for m in mails
        )
        assert "registrations.waitlist.offered" in world.audit_actions()

    async def test_the_registrant_accepts_the_offer_with_their_verified_email(
        self, world: World
    ) -> None:
        event, rows = await self.offered(world)
        assert rows[1].registration is not None
        await world.platform.outbox.drain()
        person2 = await world.core.principal(
            await world.core.verified_user("person2@example.org")
        )
        admin = world.platform.registration_admin

        with pytest.raises(NotFound):
            await admin.accept_offer(world.bob, rows[1].registration.id)
        accepted = await admin.accept_offer(person2, rows[1].registration.id)
        again = await admin.accept_offer(person2, rows[1].registration.id)

        assert accepted.status is RegistrationStatus.CONFIRMED
        assert again.status is RegistrationStatus.CONFIRMED
        assert await world.taken(event) == 1

    async def test_an_expired_offer_passes_to_the_next(self, world: World) -> None:
        event, rows = await self.offered(world)
        world.adapters.clock.advance(timedelta(hours=25))

        expired = await world.platform.registration_admin.expire_offers()

        assert (expired.examined, expired.changed) == (1, 1)
        statuses = await world.statuses(event)
        assert statuses["person2@example.org"] is RegistrationStatus.CANCELLED
        assert rows[2].registration is not None
        third = await world.row(event, rows[2].registration.id)
        assert third.registration.offer_expires_at is not None
        assert await world.taken(event) == 1
        assert any(
            "Offer expired" in m for m in await world.mails_to("person2@example.org")
        )

    async def test_an_expired_offer_cannot_be_accepted(self, world: World) -> None:
        _, rows = await self.offered(world)
        assert rows[1].registration is not None
        await world.platform.outbox.drain()
        person2 = await world.core.principal(
            await world.core.verified_user("person2@example.org")
        )
        world.adapters.clock.advance(timedelta(hours=25))

        with pytest.raises(Conflict) as refused:
            await world.platform.registration_admin.accept_offer(
                person2, rows[1].registration.id
            )

        assert refused.value.code == "offer_expired"

    @pytest.mark.parametrize("hours", [0, 169])
    async def test_offer_hours_are_between_one_and_a_week(
        self, world: World, hours: int
    ) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await world.event(waitlist_offer_hours=hours)

        assert refused.value.errors[0].field == "waitlist_offer_hours"
