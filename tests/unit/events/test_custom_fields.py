"""An organizer's custom registration fields, on the in-memory adapters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.memory import MemoryAdapters
from platform_core import IdentityPolicy, Platform
from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.events.custom_fields import CustomFieldInput, FieldRemoval
from platform_core.events.fields import (
    FIELDS_PER_EVENT_MAX,
    CustomField,
    FieldType,
    RequiredIf,
)
from platform_core.events.model import Event, EventStatus
from platform_core.events.service import EventInput
from platform_core.identity.model import Principal
from platform_core.shared.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork
from tests.support import Core

ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    capabilities=frozenset({Capability.ORGANIZER, Capability.CUSTOM_FIELDS}),
    limits={Limit.EVENTS_PER_PERIOD: None, Limit.REGISTRATIONS_PER_EVENT: None},
)


@dataclass
class AnsweredFields:
    """Registrations as the events context sees them: these fields have answers."""

    answered: set[UUID] = field(default_factory=set)

    async def confirmed(self, uow: UnitOfWork, event_id: UUID) -> int:
        return 0

    async def any(self, uow: UnitOfWork, event_id: UUID) -> bool:
        return False

    async def active(self, uow: UnitOfWork, event_id: UUID) -> int:
        return 0

    async def has_answers(self, uow: UnitOfWork, field_id: UUID) -> bool:
        return field_id in self.answered


@pytest.fixture
def registrations() -> AnsweredFields:
    return AnsweredFields()


@pytest.fixture
async def core(registrations: AnsweredFields) -> Core:
    adapters = MemoryAdapters()
    ports = replace(adapters.ports(), registrations=registrations)
    core = Core(Platform(ports, IdentityPolicy("https://app.test")), adapters)
    await core.platform.billing.upsert_plan(None, ORGANIZER)
    return core


async def an_organizer(core: Core, email: str = "ada@example.org") -> Principal:
    actor = await core.principal(await core.verified_user(email))
    await core.platform.billing.subscribe(
        actor, plan_code="organizer", interval="month"
    )
    return actor


async def an_event(core: Core, actor: Principal) -> Event:
    starts_at = core.adapters.clock.now() + timedelta(days=30)
    return await core.platform.events.create_event(
        actor,
        EventInput(
            title="Clinical audit masterclass",
            description="Two hours on audit cycles.",
            timezone="Europe/London",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2),
        ),
    )


@pytest.fixture
async def ada(core: Core) -> Principal:
    return await an_organizer(core)


@pytest.fixture
async def event(core: Core, ada: Principal) -> Event:
    return await an_event(core, ada)


@pytest.fixture
async def grace(core: Core) -> Principal:
    return await an_organizer(core, "grace@example.org")


def text(label: str = "Job title", **fields: Any) -> CustomFieldInput:
    return CustomFieldInput(label=label, field_type=FieldType.SHORT_TEXT, **fields)


def choice(label: str = "Member?", **fields: Any) -> CustomFieldInput:
    values: dict[str, Any] = {"options": ("Yes", "No")} | fields
    return CustomFieldInput(label=label, field_type=FieldType.SINGLE_CHOICE, **values)


async def add(
    core: Core, actor: Principal, event: Event, data: CustomFieldInput
) -> CustomField:
    return await core.platform.custom_fields.add_field(actor, event.id, data)


async def active(core: Core, actor: Principal, event: Event) -> list[CustomField]:
    return list(await core.platform.custom_fields.list_fields(actor, event.id))


async def every(core: Core, actor: Principal, event: Event) -> list[CustomField]:
    return list(
        await core.platform.custom_fields.list_fields(
            actor, event.id, include_archived=True
        )
    )


async def actions(core: Core) -> list[str]:
    """The custom-field audit actions, oldest first."""
    async with core.adapters.ports().uow_factory() as uow:
        records = await uow.audit.list(offset=0, limit=100)
    found = [r.action for r in records if r.action.startswith("events.custom_field")]
    return found[::-1]


def codes(caught: pytest.ExceptionInfo[ValidationFailed]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in caught.value.errors]


class TestAddField:
    async def test_a_new_field_goes_last_by_default(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        first = await add(core, ada, event, text("First"))
        second = await add(core, ada, event, text("Second"))

        assert (first.order, second.order) == (0, 1)
        assert await active(core, ada, event) == [first, second]

    async def test_an_explicit_order_is_kept(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        late = await add(core, ada, event, text("Late", order=5))
        early = await add(core, ada, event, text("Early", order=2))

        assert await active(core, ada, event) == [early, late]
        assert (await add(core, ada, event, text("Last"))).order == 6

    async def test_label_help_text_and_options_are_trimmed(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(
            core,
            ada,
            event,
            choice(
                "  Member?  ", help_text=" Of the college ", options=(" Yes", "No ")
            ),
        )

        assert (item.label, item.help_text, item.options) == (
            "Member?",
            "Of the college",
            ("Yes", "No"),
        )

    async def test_is_audited(self, core: Core, ada: Principal, event: Event) -> None:
        await add(core, ada, event, text())

        assert await actions(core) == ["events.custom_field.created"]

    async def test_a_choice_field_needs_options(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await add(core, ada, event, choice(options=()))

        assert codes(caught) == [("options", "required")]
        assert await active(core, ada, event) == []

    async def test_a_text_field_refuses_options(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await add(core, ada, event, text(options=("a",)))

        assert codes(caught) == [("options", "not_allowed")]

    async def test_a_condition_on_another_field_of_the_event_is_kept(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        member = await add(core, ada, event, choice())

        number = await add(
            core,
            ada,
            event,
            text("Membership number", required_if=RequiredIf(member.id, "Yes")),
        )

        assert number.required_if == RequiredIf(member.id, "Yes")

    async def test_a_condition_on_a_field_of_another_event_is_refused(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        elsewhere = await add(core, ada, await an_event(core, ada), choice())

        with pytest.raises(ValidationFailed) as caught:
            await add(
                core, ada, event, text(required_if=RequiredIf(elsewhere.id, "Yes"))
            )

        assert codes(caught) == [("required_if.field", "unknown_field")]

    async def test_a_condition_on_a_field_that_is_always_required_is_refused(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        member = await add(core, ada, event, choice())

        with pytest.raises(ValidationFailed) as caught:
            await add(
                core,
                ada,
                event,
                text(required=True, required_if=RequiredIf(member.id, "Yes")),
            )

        assert codes(caught) == [("required_if", "conflicts_with_required")]
        assert [f.label for f in await active(core, ada, event)] == ["Member?"]

    async def test_a_condition_with_a_value_the_controller_cannot_hold_is_refused(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        member = await add(core, ada, event, choice())

        with pytest.raises(ValidationFailed) as caught:
            await add(
                core, ada, event, text(required_if=RequiredIf(member.id, "Maybe"))
            )

        assert codes(caught) == [("required_if.equals", "invalid_choice")]

    async def test_an_event_holds_at_most_a_hundred_active_fields(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        for n in range(FIELDS_PER_EVENT_MAX):
            await add(core, ada, event, text(f"Q{n}"))

        with pytest.raises(Conflict) as caught:
            await add(core, ada, event, text("One too many"))

        assert caught.value.code == "too_many_fields"

    async def test_another_organizers_event_is_not_found(
        self, core: Core, grace: Principal, event: Event
    ) -> None:
        with pytest.raises(NotFound) as caught:
            await add(core, grace, event, text())

        assert caught.value.extra == {"resource": "event"}


class TestWithoutTheCapability:
    async def test_only_removing_a_field_is_left(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        fields = core.platform.custom_fields
        kept = await fields.add_field(ada, event.id, text())
        other = await fields.add_field(ada, event.id, text("Employer"))
        await core.platform.billing.upsert_plan(
            None,
            replace(ORGANIZER, capabilities=frozenset({Capability.ORGANIZER})),
        )

        with pytest.raises(PermissionDenied) as added:
            await fields.add_field(ada, event.id, text("Licence"))
        with pytest.raises(PermissionDenied) as changed:
            await fields.update_field(ada, event.id, kept.id, {"label": "Role"})
        with pytest.raises(PermissionDenied) as reordered:
            await fields.reorder_fields(ada, event.id, [other.id, kept.id])
        await fields.remove_field(ada, event.id, other.id)

        assert {added.value.code, changed.value.code, reordered.value.code} == {
            "capability_missing"
        }
        left = await fields.list_fields(ada, event.id)
        assert [(f.label, f.order) for f in left] == [("Job title", 0)]


class TestListFields:
    async def test_archived_fields_are_listed_only_when_asked(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        kept = await add(core, ada, event, text("Kept"))
        old = await add(core, ada, event, text("Old"))
        registrations.answered.add(old.id)
        await core.platform.custom_fields.remove_field(ada, event.id, old.id)

        assert [f.id for f in await active(core, ada, event)] == [kept.id]
        assert [f.id for f in await every(core, ada, event)] == [kept.id, old.id]

    async def test_another_organizers_event_is_not_found(
        self, core: Core, grace: Principal, event: Event
    ) -> None:
        with pytest.raises(NotFound):
            await core.platform.custom_fields.list_fields(grace, event.id)


class TestGetField:
    async def test_a_field_of_another_event_is_not_found(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        other = await an_event(core, ada)
        theirs = await add(core, ada, other, text())

        with pytest.raises(NotFound) as caught:
            await core.platform.custom_fields.get_field(ada, event.id, theirs.id)

        assert caught.value.extra == {"resource": "custom_field"}

    async def test_another_organizer_cannot_read_a_field(
        self, core: Core, ada: Principal, grace: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        with pytest.raises(NotFound) as caught:
            await core.platform.custom_fields.get_field(grace, event.id, item.id)

        assert caught.value.extra == {"resource": "event"}


class TestUpdateField:
    async def test_changes_what_is_given_and_is_audited(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        changed = await core.platform.custom_fields.update_field(
            ada, event.id, item.id, {"label": " Role ", "required": True}
        )

        assert (changed.label, changed.required, changed.help_text) == (
            "Role",
            True,
            "",
        )
        assert changed.updated_at == core.adapters.clock.now()
        assert (
            await core.platform.custom_fields.get_field(ada, event.id, item.id)
            == changed
        )
        assert await actions(core) == [
            "events.custom_field.created",
            "events.custom_field.updated",
        ]

    async def test_unknown_attributes_are_read_only(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        with pytest.raises(ValidationFailed) as caught:
            await core.platform.custom_fields.update_field(
                ada, event.id, item.id, {"event_id": new_id(), "archived_at": None}
            )

        assert codes(caught) == [
            ("archived_at", "read_only"),
            ("event_id", "read_only"),
        ]

    async def test_an_invalid_change_changes_nothing(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        with pytest.raises(ValidationFailed):
            await core.platform.custom_fields.update_field(
                ada, event.id, item.id, {"label": "", "field_type": FieldType.NUMBER}
            )

        assert await active(core, ada, event) == [item]

    async def test_the_type_of_an_unanswered_field_may_change(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, choice())

        changed = await core.platform.custom_fields.update_field(
            ada, event.id, item.id, {"field_type": FieldType.NUMBER, "options": []}
        )

        assert (changed.field_type, changed.options) == (FieldType.NUMBER, ())

    async def test_the_type_of_an_answered_field_stays(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        item = await add(core, ada, event, text())
        registrations.answered.add(item.id)

        with pytest.raises(Conflict) as caught:
            await core.platform.custom_fields.update_field(
                ada, event.id, item.id, {"field_type": FieldType.LONG_TEXT}
            )

        assert caught.value.code == "field_has_answers"
        assert await active(core, ada, event) == [item]

    async def test_an_answered_choice_may_gain_options_but_not_lose_any(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        item = await add(core, ada, event, choice())
        registrations.answered.add(item.id)
        update = core.platform.custom_fields.update_field

        grown = await update(
            ada, event.id, item.id, {"options": ["Yes", "No", "Not sure"]}
        )
        with pytest.raises(Conflict) as caught:
            await update(ada, event.id, item.id, {"options": ["Yes"]})

        assert grown.options == ("Yes", "No", "Not sure")
        assert caught.value.code == "field_has_answers"

    async def test_a_condition_that_closes_a_circle_is_refused(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        first = await add(core, ada, event, choice("First"))
        second = await add(
            core, ada, event, choice("Second", required_if=RequiredIf(first.id, "Yes"))
        )

        with pytest.raises(ValidationFailed) as caught:
            await core.platform.custom_fields.update_field(
                ada, event.id, first.id, {"required_if": RequiredIf(second.id, "No")}
            )

        assert codes(caught) == [("required_if.field", "cycle")]

    async def test_a_field_may_not_depend_on_itself(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, choice())

        with pytest.raises(ValidationFailed) as caught:
            await core.platform.custom_fields.update_field(
                ada, event.id, item.id, {"required_if": RequiredIf(item.id, "Yes")}
            )

        assert codes(caught) == [("required_if.field", "self_reference")]

    async def test_a_change_that_breaks_a_dependent_condition_is_refused(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        member = await add(core, ada, event, choice())
        number = await add(
            core, ada, event, text(required_if=RequiredIf(member.id, "Yes"))
        )

        with pytest.raises(Conflict) as caught:
            await core.platform.custom_fields.update_field(
                ada, event.id, member.id, {"options": ["Oui", "Non"]}
            )

        assert caught.value.code == "field_has_dependents"
        assert caught.value.extra["dependents"] == [str(number.id)]

    async def test_a_condition_may_be_cleared(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        member = await add(core, ada, event, choice())
        number = await add(
            core, ada, event, text(required_if=RequiredIf(member.id, "Yes"))
        )

        changed = await core.platform.custom_fields.update_field(
            ada, event.id, number.id, {"required_if": None}
        )

        assert changed.required_if is None

    async def test_an_archived_field_cannot_be_changed(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        item = await add(core, ada, event, text())
        registrations.answered.add(item.id)
        await core.platform.custom_fields.remove_field(ada, event.id, item.id)

        with pytest.raises(Conflict) as caught:
            await core.platform.custom_fields.update_field(
                ada, event.id, item.id, {"label": "Back"}
            )

        assert caught.value.code == "field_archived"

    async def test_another_organizer_cannot_change_a_field(
        self, core: Core, ada: Principal, grace: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        with pytest.raises(NotFound):
            await core.platform.custom_fields.update_field(
                grace, event.id, item.id, {"label": "Mine"}
            )

        assert await active(core, ada, event) == [item]


class TestRemoveField:
    async def test_an_unanswered_field_is_deleted(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        removal = await core.platform.custom_fields.remove_field(ada, event.id, item.id)

        assert removal is FieldRemoval.DELETED
        assert await every(core, ada, event) == []
        assert (await actions(core))[-1] == "events.custom_field.deleted"

    async def test_an_answered_field_is_archived_not_deleted(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        item = await add(core, ada, event, text())
        registrations.answered.add(item.id)

        removal = await core.platform.custom_fields.remove_field(ada, event.id, item.id)

        assert removal is FieldRemoval.ARCHIVED
        assert await active(core, ada, event) == []
        [archived] = await every(core, ada, event)
        assert archived.id == item.id
        assert archived.archived_at == core.adapters.clock.now()
        assert (await actions(core))[-1] == "events.custom_field.archived"

    async def test_removing_an_archived_field_again_changes_nothing(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        item = await add(core, ada, event, text())
        registrations.answered.add(item.id)
        remove = core.platform.custom_fields.remove_field
        await remove(ada, event.id, item.id)
        before = await every(core, ada, event)
        core.adapters.clock.advance(timedelta(hours=1))

        assert await remove(ada, event.id, item.id) is FieldRemoval.ARCHIVED
        assert await every(core, ada, event) == before

    async def test_a_field_another_field_depends_on_is_kept(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        member = await add(core, ada, event, choice())
        number = await add(
            core,
            ada,
            event,
            text("Number", required_if=RequiredIf(member.id, "Yes")),
        )

        with pytest.raises(Conflict) as caught:
            await core.platform.custom_fields.remove_field(ada, event.id, member.id)

        assert caught.value.code == "field_has_dependents"
        assert caught.value.extra["dependents"] == [str(number.id)]
        assert "'Number'" in caught.value.detail
        assert len(await active(core, ada, event)) == 2

    async def test_another_organizer_cannot_remove_a_field(
        self, core: Core, ada: Principal, grace: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        with pytest.raises(NotFound):
            await core.platform.custom_fields.remove_field(grace, event.id, item.id)

        assert await active(core, ada, event) == [item]

    async def test_deleting_the_event_deletes_its_fields(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        await core.platform.events.delete_event(ada, event.id)

        async with core.adapters.ports().uow_factory() as uow:
            assert await uow.custom_fields.get(item.id) is None


class TestReorderFields:
    async def test_numbers_the_fields_as_listed(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        a, b, c = [await add(core, ada, event, text(n, order=9)) for n in "abc"]

        result = await core.platform.custom_fields.reorder_fields(
            ada, event.id, [c.id, a.id, b.id]
        )

        listed = await active(core, ada, event)
        assert [(f.id, f.order) for f in listed] == [(c.id, 0), (a.id, 1), (b.id, 2)]
        assert list(result) == listed

    async def test_every_active_field_must_be_listed_exactly_once(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        a, b, c = [await add(core, ada, event, text(n)) for n in "abc"]
        stranger = new_id()

        with pytest.raises(ValidationFailed) as caught:
            await core.platform.custom_fields.reorder_fields(
                ada, event.id, [b.id, b.id, stranger]
            )

        assert codes(caught) == [
            ("order.1", "duplicate"),
            ("order.2", "unknown_field"),
            ("order", "missing_fields"),
        ]
        assert await active(core, ada, event) == [a, b, c]

    async def test_archived_fields_are_not_reordered(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        old, kept = (
            await add(core, ada, event, text("Old")),
            await add(core, ada, event, text("Kept")),
        )
        registrations.answered.add(old.id)
        await core.platform.custom_fields.remove_field(ada, event.id, old.id)

        with pytest.raises(ValidationFailed) as caught:
            await core.platform.custom_fields.reorder_fields(
                ada, event.id, [old.id, kept.id]
            )

        assert codes(caught) == [("order.0", "unknown_field")]

    async def test_another_organizers_event_is_not_found(
        self, core: Core, ada: Principal, grace: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text())

        with pytest.raises(NotFound):
            await core.platform.custom_fields.reorder_fields(grace, event.id, [item.id])


class TestValidateAnswers:
    async def test_checks_answers_against_the_events_fields(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        member = await add(core, ada, event, choice())
        number = await add(
            core, ada, event, text(required_if=RequiredIf(member.id, "Yes"))
        )
        old = await add(core, ada, event, text("Old"))
        registrations.answered.add(old.id)
        await core.platform.custom_fields.remove_field(ada, event.id, old.id)
        validate = core.platform.custom_fields.validate_answers

        with pytest.raises(ValidationFailed) as caught:
            await validate(event.id, {str(member.id): "Yes", str(old.id): "x"})

        assert codes(caught) == [
            (f"answers.{old.id}", "field_archived"),
            (f"answers.{number.id}", "required"),
        ]
        assert await validate(event.id, {str(member.id): "No"}) == {
            str(member.id): "No"
        }

    async def test_runs_inside_the_callers_unit_of_work(
        self, core: Core, ada: Principal, event: Event
    ) -> None:
        item = await add(core, ada, event, text(required=True))

        async with core.adapters.ports().uow_factory() as uow:
            answers = await core.platform.custom_fields.validate_answers_in(
                uow, event.id, {str(item.id): " Nurse "}
            )

        assert answers == {str(item.id): "Nurse"}


class TestPublicEvent:
    async def test_shows_the_active_fields_in_their_order(
        self,
        core: Core,
        ada: Principal,
        event: Event,
        registrations: AnsweredFields,
    ) -> None:
        second = await add(core, ada, event, text("Second", order=2))
        first = await add(core, ada, event, choice("First", order=1))
        old = await add(core, ada, event, text("Old", order=0))
        registrations.answered.add(old.id)
        await core.platform.custom_fields.remove_field(ada, event.id, old.id)
        await core.platform.events.set_published(ada, event.id, True)

        public = await core.platform.events.public_event(event.slug)

        assert public.event.status is EventStatus.PUBLISHED
        assert list(public.custom_fields) == [first, second]
