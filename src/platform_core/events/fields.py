"""Custom registration fields of an event, and the one validator of answers to them."""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from platform_core.shared.errors import FieldErrors
from platform_core.shared.ids import new_id

LABEL_MAX = 200
HELP_TEXT_MAX = 1_000
OPTION_MAX = 200
OPTIONS_MAX = 100
ORDER_MAX = 10_000
FIELDS_PER_EVENT_MAX = 100
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 10_000
NUMBER_MAX = 1e15
PHONE_DIGITS_MIN = 6
PHONE_DIGITS_MAX = 20

_PHONE = re.compile(r"^\+?[0-9 ()\-]+$")
"""Digits, spaces, hyphens and parentheses, with an optional leading `+`."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LINE_BREAKS = frozenset("\n\r\t")

Scalar = str | int | float | bool
"""A single answer value, as JSON carries it."""

Answer = Scalar | list[str]
"""A normalized answer: a scalar, or the chosen options of a multiple choice."""


class FieldType(enum.StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    CHECKBOX = "checkbox"

    @property
    def has_options(self) -> bool:
        return self in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE)


@dataclass(frozen=True, slots=True)
class RequiredIf:
    """The field is required when the answer to `field` equals `equals`.

    For a multiple-choice controller it is enough that `equals` is among the
    chosen options.
    """

    field: UUID
    equals: Scalar


@dataclass(slots=True)
class CustomField:
    """A question an event asks on its registration form."""

    event_id: UUID
    label: str
    field_type: FieldType
    created_at: datetime
    id: UUID = field(default_factory=new_id)
    required: bool = False
    help_text: str = ""
    options: tuple[str, ...] = ()
    order: int = 0
    required_if: RequiredIf | None = None
    archived_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def check(self) -> None:
        """Raise ValidationFailed naming every attribute that breaks a rule."""
        errors = FieldErrors()
        if not self.label.strip():
            errors.add("label", "required", "A field needs a label.")
        elif len(self.label) > LABEL_MAX:
            errors.add("label", "too_long", f"At most {LABEL_MAX} characters.")
        elif _has_control_characters(self.label, allow_line_breaks=False):
            errors.add("label", "invalid_characters", "No control characters.")
        if len(self.help_text) > HELP_TEXT_MAX:
            errors.add("help_text", "too_long", f"At most {HELP_TEXT_MAX} characters.")
        elif _has_control_characters(self.help_text, allow_line_breaks=True):
            errors.add("help_text", "invalid_characters", "No control characters.")
        if not 0 <= self.order <= ORDER_MAX:
            errors.add("order", "out_of_range", f"Between 0 and {ORDER_MAX}.")
        self._check_options(errors)
        if self.required_if is not None and self.required_if.field == self.id:
            errors.add(
                "required_if.field",
                "self_reference",
                "A field cannot depend on its own answer.",
            )
        if self.required and self.required_if is not None:
            errors.add(
                "required_if",
                "conflicts_with_required",
                "A field that is always required cannot be required only on a "
                "condition; set required to false or drop required_if.",
            )
        errors.raise_if_any("The custom field is not valid.")

    def _check_options(self, errors: FieldErrors) -> None:
        if not self.field_type.has_options:
            if self.options:
                errors.add(
                    "options",
                    "not_allowed",
                    f"A {self.field_type.value} field has no options; send [].",
                )
            return
        if not self.options:
            errors.add("options", "required", "A choice field needs options.")
            return
        if len(self.options) > OPTIONS_MAX:
            errors.add("options", "too_many", f"At most {OPTIONS_MAX} options.")
        seen: set[str] = set()
        for index, option in enumerate(self.options):
            name = f"options.{index}"
            if not option.strip():
                errors.add(name, "required", "An option cannot be blank.")
            elif option != option.strip():
                errors.add(name, "invalid", "No spaces around an option.")
            elif len(option) > OPTION_MAX:
                errors.add(name, "too_long", f"At most {OPTION_MAX} characters.")
            elif _has_control_characters(option, allow_line_breaks=False):
                errors.add(name, "invalid_characters", "No control characters.")
            elif option in seen:
                errors.add(name, "duplicate", f"{option!r} is listed twice.")
            seen.add(option)


def check_rules(fields: Sequence[CustomField]) -> dict[UUID, tuple[str, str, str]]:
    """The active fields whose `required_if` is broken, with (attribute, code, why).

    A rule must name another active field of the same event, compare with a
    value that field can hold, and not lead back to itself through other rules.
    """
    active = {f.id: f for f in fields if not f.is_archived}
    broken: dict[UUID, tuple[str, str, str]] = {}
    for dependent in active.values():
        rule = dependent.required_if
        if rule is None:
            continue
        controller = active.get(rule.field)
        if rule.field == dependent.id:
            broken[dependent.id] = (
                "required_if.field",
                "self_reference",
                "A field cannot depend on its own answer.",
            )
        elif controller is None or controller.event_id != dependent.event_id:
            broken[dependent.id] = (
                "required_if.field",
                "unknown_field",
                "Name another active field of the same event.",
            )
        elif _leads_back(dependent, active):
            broken[dependent.id] = (
                "required_if.field",
                "cycle",
                "These conditions depend on each other in a circle.",
            )
        else:
            try:
                _scalar(controller, rule.equals)
            except _Refused as refused:
                broken[dependent.id] = ("required_if.equals", refused.code, refused.why)
    return broken


def _leads_back(start: CustomField, active: Mapping[UUID, CustomField]) -> bool:
    """True when following the rules from `start` comes back to `start`."""
    seen = {start.id}
    current = start
    while current.required_if is not None:
        following = active.get(current.required_if.field)
        if following is None:
            return False
        if following.id == start.id:
            return True
        if following.id in seen:
            return False
        seen.add(following.id)
        current = following
    return False


def validate_answers(
    fields: Sequence[CustomField], answers: Mapping[str, object]
) -> dict[str, Answer]:
    """Check an answer set against an event's fields; the normalized answers.

    `answers` maps field uuids to values decoded from JSON. Every problem
    raises one ValidationFailed naming `answers.<field uuid>` with a code:
    `unknown_field`, `field_archived`, `duplicate_answer`, `required`,
    `invalid_type`, `too_long`, `invalid_characters`, `invalid_number`,
    `out_of_range`, `invalid_email`, `invalid_phone`, `invalid_date`,
    `invalid_choice` or `duplicate_choice`. A blank answer (null, an empty or
    blank text, an empty list) counts as no answer and is left out; a required
    checkbox must be ticked.
    """
    by_id = {f.id: f for f in fields}
    errors = FieldErrors()
    given: dict[UUID, object] = {}
    for key, value in answers.items():
        name = f"answers.{key[:64]}"
        try:
            field_id = UUID(key)
        except (ValueError, TypeError, AttributeError):
            errors.add(name, "unknown_field", "This event has no field with this id.")
            continue
        found = by_id.get(field_id)
        if found is None:
            errors.add(name, "unknown_field", "This event has no field with this id.")
        elif found.is_archived:
            errors.add(name, "field_archived", "This field is no longer asked.")
        elif field_id in given:
            errors.add(name, "duplicate_answer", "This field is answered twice.")
        else:
            given[field_id] = value

    active = sorted(
        (f for f in fields if not f.is_archived), key=lambda f: (f.order, f.id)
    )
    normalized: dict[UUID, Answer] = {}
    for item in active:
        if item.id not in given:
            continue
        try:
            answer = _answer(item, given[item.id])
        except _Refused as refused:
            errors.add(f"answers.{item.id}", refused.code, refused.why)
            continue
        if answer is not None:
            normalized[item.id] = answer

    for item in active:
        answer = normalized.get(item.id)
        if not _is_required(item, normalized, by_id):
            continue
        if answer is None:
            errors.add(f"answers.{item.id}", "required", _required_why(item, by_id))
        elif item.field_type is FieldType.CHECKBOX and answer is False:
            errors.add(f"answers.{item.id}", "required", "Tick this box to go on.")
    errors.raise_if_any("Some answers are not valid.")
    return {str(field_id): answer for field_id, answer in normalized.items()}


def _is_required(
    item: CustomField,
    answers: Mapping[UUID, Answer],
    by_id: Mapping[UUID, CustomField],
) -> bool:
    if item.required:
        return True
    rule = item.required_if
    if rule is None:
        return False
    controller = by_id.get(rule.field)
    if controller is None or controller.is_archived:
        return False
    answer = answers.get(controller.id)
    if answer is None:
        return False
    try:
        expected = _scalar(controller, rule.equals)
    except _Refused:
        return False
    if isinstance(answer, list):
        return expected in answer
    return _same(answer, expected)


def _same(answer: Scalar, expected: Scalar) -> bool:
    if isinstance(answer, bool) or isinstance(expected, bool):
        return answer is expected
    return answer == expected


def _required_why(item: CustomField, by_id: Mapping[UUID, CustomField]) -> str:
    rule = item.required_if
    if item.required or rule is None:
        return "This field is required."
    controller = by_id[rule.field]
    return f"Required when {controller.label!r} is {rule.equals!r}."


class _Refused(Exception):
    def __init__(self, code: str, why: str) -> None:
        super().__init__(why)
        self.code = code
        self.why = why


def _answer(item: CustomField, value: object) -> Answer | None:
    """The normalized answer, None for a blank one; raises _Refused."""
    if value is None:
        return None
    if item.field_type is FieldType.MULTIPLE_CHOICE:
        if not isinstance(value, list):
            raise _Refused("invalid_type", "Send a list of the chosen options.")
        if not value:
            return None
        chosen = [_scalar(item, option) for option in value]
        if len(set(chosen)) != len(chosen):
            raise _Refused("duplicate_choice", "An option is chosen twice.")
        return [option for option in item.options if option in chosen]
    if isinstance(value, str) and not value.strip() and _is_text(item.field_type):
        return None
    return _scalar(item, value)


def _is_text(kind: FieldType) -> bool:
    return kind not in (FieldType.NUMBER, FieldType.CHECKBOX)


def _scalar(item: CustomField, value: object) -> Scalar:
    """One value `item` can hold, normalized; for a multiple choice, one option."""
    kind = item.field_type
    if kind is FieldType.CHECKBOX:
        if not isinstance(value, bool):
            raise _Refused("invalid_type", "Send true or false.")
        return value
    if kind is FieldType.NUMBER:
        return _number(value)
    if not isinstance(value, str):
        raise _Refused("invalid_type", "Send a string.")
    if kind.has_options:
        if value not in item.options:
            raise _Refused("invalid_choice", f"{value[:50]!r} is not an option.")
        return value
    if kind is FieldType.LONG_TEXT:
        return _text(value, LONG_TEXT_MAX, allow_line_breaks=True)
    text = _text(value, SHORT_TEXT_MAX, allow_line_breaks=False)
    if kind is FieldType.EMAIL:
        return _email(text)
    if kind is FieldType.PHONE:
        return _phone(text)
    if kind is FieldType.DATE:
        return _date(text)
    return text


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused("invalid_type", "Send a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Refused("invalid_number", "Send a finite number.")
    if abs(value) > NUMBER_MAX:
        raise _Refused("out_of_range", f"At most {NUMBER_MAX:.0e} either way.")
    return value


def _text(value: str, limit: int, *, allow_line_breaks: bool) -> str:
    text = value.strip()
    if len(text) > limit:
        raise _Refused("too_long", f"At most {limit} characters.")
    if _has_control_characters(text, allow_line_breaks=allow_line_breaks):
        raise _Refused("invalid_characters", "No control characters.")
    return text


def _email(text: str) -> str:
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise _Refused("invalid_email", str(error)) from error
    return checked.normalized


def _phone(text: str) -> str:
    digits = sum(char.isdigit() for char in text)
    if not _PHONE.match(text) or not PHONE_DIGITS_MIN <= digits <= PHONE_DIGITS_MAX:
        raise _Refused(
            "invalid_phone",
            f"Use {PHONE_DIGITS_MIN} to {PHONE_DIGITS_MAX} digits, with spaces, "
            "hyphens, parentheses and a leading + if you like.",
        )
    return text


def _date(text: str) -> str:
    if not _ISO_DATE.match(text):
        raise _Refused("invalid_date", "Use the form YYYY-MM-DD.")
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as error:
        raise _Refused("invalid_date", "No such day.") from error


def _has_control_characters(text: str, *, allow_line_breaks: bool) -> bool:
    return any(
        unicodedata.category(char) in ("Cc", "Cs")
        and not (allow_line_breaks and char in _LINE_BREAKS)
        for char in text
    )
