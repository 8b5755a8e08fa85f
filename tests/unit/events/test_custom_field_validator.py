"""The one validator of an answer set against an event's custom fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from platform_core.events.fields import (
    CustomField,
    FieldType,
    RequiredIf,
    check_rules,
    validate_answers,
)
from platform_core.shared.errors import ValidationFailed
from platform_core.shared.ids import new_id

NOW = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)
EVENT = new_id()


def a_field(field_type: FieldType = FieldType.SHORT_TEXT, **fields: Any) -> CustomField:
    defaults: dict[str, Any] = {
        "event_id": EVENT,
        "label": f"A {field_type.value} question",
        "field_type": field_type,
        "created_at": NOW,
    }
    if field_type.has_options and "options" not in fields:
        defaults["options"] = ("Red", "Green", "Blue")
    return CustomField(**(defaults | fields))


def refusals(
    fields: list[CustomField], answers: Mapping[str, object]
) -> dict[str, str]:
    """The code of each refused answer, by error field."""
    with pytest.raises(ValidationFailed) as caught:
        validate_answers(fields, answers)
    return {e.field: e.code for e in caught.value.errors}


def refusal(item: CustomField, value: object) -> str:
    codes = refusals([item], {str(item.id): value})
    assert list(codes) == [f"answers.{item.id}"]
    return codes[f"answers.{item.id}"]


def accepted(item: CustomField, value: object) -> object:
    return validate_answers([item], {str(item.id): value})[str(item.id)]


class TestAnswerSet:
    def test_valid_answers_come_back_normalized_by_field_uuid(self) -> None:
        name, email = a_field(), a_field(FieldType.EMAIL)

        answers = validate_answers(
            [name, email],
            {str(name.id): "  Ada  ", str(email.id).upper(): "ada@Example.ORG"},
        )

        assert answers == {str(name.id): "Ada", str(email.id): "ada@example.org"}

    def test_no_fields_and_no_answers_is_valid(self) -> None:
        assert validate_answers([], {}) == {}

    def test_an_unknown_field_uuid_is_refused(self) -> None:
        stranger = str(new_id())

        assert refusals([a_field()], {stranger: "x"}) == {
            f"answers.{stranger}": "unknown_field"
        }

    def test_a_key_that_is_no_uuid_is_an_unknown_field(self) -> None:
        assert refusals([a_field()], {"name": "x"}) == {"answers.name": "unknown_field"}

    def test_an_archived_field_is_refused(self) -> None:
        old = a_field(archived_at=NOW)

        assert refusals([old], {str(old.id): "x"}) == {
            f"answers.{old.id}": "field_archived"
        }

    def test_an_archived_required_field_is_not_required(self) -> None:
        assert validate_answers([a_field(required=True, archived_at=NOW)], {}) == {}

    def test_the_same_field_twice_in_two_spellings_is_refused(self) -> None:
        item = a_field()

        codes = refusals([item], {str(item.id): "a", str(item.id).upper(): "b"})

        assert codes == {f"answers.{str(item.id).upper()}": "duplicate_answer"}

    def test_every_problem_is_reported_at_once(self) -> None:
        number, colour, agree = (
            a_field(FieldType.NUMBER),
            a_field(FieldType.SINGLE_CHOICE),
            a_field(FieldType.CHECKBOX, required=True),
        )

        codes = refusals(
            [number, colour, agree],
            {str(number.id): "12", str(colour.id): "Purple"},
        )

        assert codes == {
            f"answers.{number.id}": "invalid_type",
            f"answers.{colour.id}": "invalid_choice",
            f"answers.{agree.id}": "required",
        }

    def test_the_error_says_the_answers_are_not_valid(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            validate_answers([a_field(required=True)], {})

        assert caught.value.code == "validation_error"
        assert caught.value.errors[0].message == "This field is required."


class TestRequired:
    @pytest.mark.parametrize("blank", [None, "", "   "])
    def test_a_blank_answer_to_a_required_field_is_missing(self, blank: Any) -> None:
        assert refusal(a_field(required=True), blank) == "required"

    def test_a_missing_answer_to_a_required_field_is_refused(self) -> None:
        item = a_field(FieldType.LONG_TEXT, required=True)

        assert refusals([item], {}) == {f"answers.{item.id}": "required"}

    def test_a_blank_answer_to_an_optional_field_is_left_out(self) -> None:
        item = a_field()

        assert validate_answers([item], {str(item.id): "  "}) == {}

    def test_an_empty_multiple_choice_is_missing_when_required(self) -> None:
        assert refusal(a_field(FieldType.MULTIPLE_CHOICE, required=True), []) == (
            "required"
        )

    def test_a_required_checkbox_must_be_ticked(self) -> None:
        item = a_field(FieldType.CHECKBOX, required=True)

        assert refusal(item, False) == "required"
        assert accepted(item, True) is True

    def test_an_optional_checkbox_may_stay_unticked(self) -> None:
        assert accepted(a_field(FieldType.CHECKBOX), False) is False


class TestRequiredIf:
    def test_a_field_is_required_when_its_controller_has_the_given_answer(
        self,
    ) -> None:
        member = a_field(FieldType.SINGLE_CHOICE, options=("Yes", "No"))
        number = a_field(required_if=RequiredIf(member.id, "Yes"))

        assert refusals([member, number], {str(member.id): "Yes"}) == {
            f"answers.{number.id}": "required"
        }

    def test_the_message_names_the_condition(self) -> None:
        member = a_field(
            FieldType.SINGLE_CHOICE, label="Member?", options=("Yes", "No")
        )
        number = a_field(required_if=RequiredIf(member.id, "Yes"))

        with pytest.raises(ValidationFailed) as caught:
            validate_answers([member, number], {str(member.id): "Yes"})

        assert caught.value.errors[0].message == "Required when 'Member?' is 'Yes'."

    def test_a_field_is_optional_when_its_controller_has_another_answer(
        self,
    ) -> None:
        member = a_field(FieldType.SINGLE_CHOICE, options=("Yes", "No"))
        number = a_field(required_if=RequiredIf(member.id, "Yes"))

        assert validate_answers([member, number], {str(member.id): "No"}) == {
            str(member.id): "No"
        }

    def test_a_field_is_optional_when_its_controller_is_unanswered(self) -> None:
        member = a_field(FieldType.SINGLE_CHOICE, options=("Yes", "No"))
        number = a_field(required_if=RequiredIf(member.id, "Yes"))

        assert validate_answers([member, number], {}) == {}

    def test_a_multiple_choice_controller_requires_when_it_contains_the_value(
        self,
    ) -> None:
        diet = a_field(FieldType.MULTIPLE_CHOICE, options=("Vegan", "Other"))
        details = a_field(FieldType.LONG_TEXT, required_if=RequiredIf(diet.id, "Other"))

        assert refusals([diet, details], {str(diet.id): ["Vegan", "Other"]}) == {
            f"answers.{details.id}": "required"
        }
        assert validate_answers([diet, details], {str(diet.id): ["Vegan"]}) == {
            str(diet.id): ["Vegan"]
        }

    def test_a_checkbox_controller_compares_as_a_boolean(self) -> None:
        speaker = a_field(FieldType.CHECKBOX)
        bio = a_field(FieldType.LONG_TEXT, required_if=RequiredIf(speaker.id, True))

        assert refusals([speaker, bio], {str(speaker.id): True}) == {
            f"answers.{bio.id}": "required"
        }
        assert validate_answers([speaker, bio], {str(speaker.id): False}) == {
            str(speaker.id): False
        }

    def test_a_number_controller_does_not_equal_a_ticked_checkbox(self) -> None:
        guests = a_field(FieldType.NUMBER)
        names = a_field(required_if=RequiredIf(guests.id, 1))

        assert refusals([guests, names], {str(guests.id): 1.0}) == {
            f"answers.{names.id}": "required"
        }
        assert validate_answers([guests, names], {str(guests.id): 2}) == {
            str(guests.id): 2
        }

    def test_a_text_controller_compares_normalized_answers(self) -> None:
        email = a_field(FieldType.EMAIL)
        reason = a_field(required_if=RequiredIf(email.id, "boss@Example.ORG"))

        assert refusals([email, reason], {str(email.id): " boss@example.ORG"}) == {
            f"answers.{reason.id}": "required"
        }

    def test_an_archived_controller_requires_nothing(self) -> None:
        member = a_field(
            FieldType.SINGLE_CHOICE, options=("Yes", "No"), archived_at=NOW
        )
        number = a_field(required_if=RequiredIf(member.id, "Yes"))

        assert validate_answers([member, number], {}) == {}


class TestTextAnswers:
    def test_short_text_holds_at_most_500_characters(self) -> None:
        item = a_field()

        assert accepted(item, "x" * 500) == "x" * 500
        assert refusal(item, "x" * 501) == "too_long"

    def test_long_text_holds_at_most_10000_characters_and_line_breaks(self) -> None:
        item = a_field(FieldType.LONG_TEXT)

        assert accepted(item, "line one\nline two\t!") == "line one\nline two\t!"
        assert accepted(item, "x" * 10_000) == "x" * 10_000
        assert refusal(item, "x" * 10_001) == "too_long"

    def test_short_text_refuses_control_characters(self) -> None:
        assert refusal(a_field(), "two\nlines") == "invalid_characters"
        assert refusal(a_field(FieldType.LONG_TEXT), "nul\x00") == "invalid_characters"

    @pytest.mark.parametrize("value", [12, True, ["a"], {"a": 1}])
    def test_text_must_be_a_string(self, value: object) -> None:
        assert refusal(a_field(), value) == "invalid_type"


class TestNumberAnswers:
    @pytest.mark.parametrize("value", [0, -3, 2.5, 10**15])
    def test_finite_numbers_are_accepted(self, value: float) -> None:
        assert accepted(a_field(FieldType.NUMBER), value) == value

    @pytest.mark.parametrize("value", [True, False, "3", [3]])
    def test_anything_but_a_number_is_refused(self, value: object) -> None:
        assert refusal(a_field(FieldType.NUMBER), value) == "invalid_type"

    @pytest.mark.parametrize("value", [float("nan"), float("inf")])
    def test_a_number_must_be_finite(self, value: float) -> None:
        assert refusal(a_field(FieldType.NUMBER), value) == "invalid_number"

    def test_a_number_beyond_a_quadrillion_is_out_of_range(self) -> None:
        assert refusal(a_field(FieldType.NUMBER), 10**16) == "out_of_range"


class TestEmailAnswers:
    def test_an_address_is_normalized(self) -> None:
        assert accepted(a_field(FieldType.EMAIL), " Ada@EXAMPLE.org ") == (
            "Ada@example.org"
        )

    @pytest.mark.parametrize("value", ["ada", "ada@", "@example.org", "a b@x.org"])
    def test_a_malformed_address_is_refused(self, value: str) -> None:
        assert refusal(a_field(FieldType.EMAIL), value) == "invalid_email"


class TestPhoneAnswers:
    @pytest.mark.parametrize(
        "value", ["+44 20 7946 0958", "(020) 7946-0958", "123456", "1" * 20]
    )
    def test_digits_with_spaces_hyphens_parentheses_and_a_plus(
        self, value: str
    ) -> None:
        assert accepted(a_field(FieldType.PHONE), value) == value

    @pytest.mark.parametrize(
        "value", ["12345", "1" * 21, "020 7946 ext 1", "44+20 7946 0958", "+"]
    )
    def test_anything_else_is_refused(self, value: str) -> None:
        assert refusal(a_field(FieldType.PHONE), value) == "invalid_phone"


class TestDateAnswers:
    def test_an_iso_day_is_accepted(self) -> None:
        assert accepted(a_field(FieldType.DATE), "2031-02-28") == "2031-02-28"

    @pytest.mark.parametrize(
        "value", ["2031-02-30", "20310228", "2031-W09-5", "28/02/2031", "2031-2-8"]
    )
    def test_anything_but_a_real_yyyy_mm_dd_is_refused(self, value: str) -> None:
        assert refusal(a_field(FieldType.DATE), value) == "invalid_date"


class TestChoiceAnswers:
    def test_a_single_choice_is_one_of_the_options(self) -> None:
        item = a_field(FieldType.SINGLE_CHOICE)

        assert accepted(item, "Green") == "Green"
        assert refusal(item, "green") == "invalid_choice"
        assert refusal(item, ["Green"]) == "invalid_type"

    def test_a_multiple_choice_comes_back_in_the_order_of_the_options(self) -> None:
        assert accepted(a_field(FieldType.MULTIPLE_CHOICE), ["Blue", "Red"]) == [
            "Red",
            "Blue",
        ]

    def test_a_multiple_choice_refuses_an_unknown_option(self) -> None:
        assert refusal(a_field(FieldType.MULTIPLE_CHOICE), ["Red", "Pink"]) == (
            "invalid_choice"
        )

    def test_a_multiple_choice_refuses_an_option_chosen_twice(self) -> None:
        assert refusal(a_field(FieldType.MULTIPLE_CHOICE), ["Red", "Red"]) == (
            "duplicate_choice"
        )

    @pytest.mark.parametrize("value", ["Red", [1], [None]])
    def test_a_multiple_choice_is_a_list_of_strings(self, value: object) -> None:
        assert refusal(a_field(FieldType.MULTIPLE_CHOICE), value) == "invalid_type"

    @pytest.mark.parametrize("value", ["true", 1, [True]])
    def test_a_checkbox_is_true_or_false(self, value: object) -> None:
        assert refusal(a_field(FieldType.CHECKBOX), value) == "invalid_type"


class TestFieldDefinition:
    def test_a_choice_field_needs_options(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            a_field(FieldType.SINGLE_CHOICE, options=()).check()

        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("options", "required")
        ]

    def test_other_fields_refuse_options(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            a_field(FieldType.NUMBER, options=("1",)).check()

        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("options", "not_allowed")
        ]

    def test_options_are_distinct_and_not_blank(self) -> None:
        item = a_field(FieldType.MULTIPLE_CHOICE, options=("A", "", "A"))

        with pytest.raises(ValidationFailed) as caught:
            item.check()

        assert [(e.field, e.code) for e in caught.value.errors] == [
            ("options.1", "required"),
            ("options.2", "duplicate"),
        ]

    def test_a_label_is_required_and_bounded(self) -> None:
        for label, code in (("  ", "required"), ("x" * 201, "too_long")):
            with pytest.raises(ValidationFailed) as caught:
                a_field(label=label).check()
            assert [(e.field, e.code) for e in caught.value.errors] == [("label", code)]

    def test_a_field_may_not_depend_on_itself(self) -> None:
        item = a_field()
        item.required_if = RequiredIf(item.id, "x")

        with pytest.raises(ValidationFailed) as caught:
            item.check()

        assert caught.value.errors[0].field == "required_if.field"
        assert caught.value.errors[0].code == "self_reference"


class TestRules:
    def test_rules_naming_active_fields_with_fitting_values_hold(self) -> None:
        member = a_field(FieldType.SINGLE_CHOICE, options=("Yes", "No"))
        number = a_field(required_if=RequiredIf(member.id, "Yes"))

        assert check_rules([member, number]) == {}

    def test_a_rule_naming_an_unknown_or_archived_field_is_broken(self) -> None:
        old = a_field(archived_at=NOW)
        lost = a_field(required_if=RequiredIf(new_id(), "x"))
        orphan = a_field(required_if=RequiredIf(old.id, "x"))

        broken = check_rules([old, lost, orphan])

        assert {k: v[:2] for k, v in broken.items()} == {
            lost.id: ("required_if.field", "unknown_field"),
            orphan.id: ("required_if.field", "unknown_field"),
        }

    def test_rules_in_a_circle_are_broken(self) -> None:
        first_id, second_id, third_id = new_id(), new_id(), new_id()
        first = a_field(id=first_id, required_if=RequiredIf(third_id, "x"))
        second = a_field(id=second_id, required_if=RequiredIf(first_id, "x"))
        third = a_field(id=third_id, required_if=RequiredIf(second_id, "x"))
        outside = a_field(required_if=RequiredIf(first_id, "x"))

        broken = check_rules([first, second, third, outside])

        assert {k: v[1] for k, v in broken.items()} == {
            first_id: "cycle",
            second_id: "cycle",
            third_id: "cycle",
        }

    @pytest.mark.parametrize(
        ("kind", "equals", "code"),
        [
            (FieldType.SINGLE_CHOICE, "Purple", "invalid_choice"),
            (FieldType.MULTIPLE_CHOICE, "Purple", "invalid_choice"),
            (FieldType.CHECKBOX, "yes", "invalid_type"),
            (FieldType.NUMBER, True, "invalid_type"),
            (FieldType.DATE, "tomorrow", "invalid_date"),
        ],
    )
    def test_a_value_the_controller_cannot_hold_is_broken(
        self, kind: FieldType, equals: Any, code: str
    ) -> None:
        controller = a_field(kind)
        dependent = a_field(required_if=RequiredIf(controller.id, equals))

        assert check_rules([controller, dependent])[dependent.id][:2] == (
            "required_if.equals",
            code,
        )
