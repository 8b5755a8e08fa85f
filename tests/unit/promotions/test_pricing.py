"""What a code takes off a price, and the rules a code must follow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.memory import ManualClock
from platform_core.promotions.model import (
    DiscountType,
    PromoCode,
    code_key,
    discount_for,
)
from platform_core.shared.errors import ValidationFailed
from platform_core.shared.ids import new_id

NOW = ManualClock().now()


def a_code(**fields: Any) -> PromoCode:
    defaults: dict[str, Any] = {
        "organizer_id": new_id(),
        "code": "SPRING25",
        "discount_type": DiscountType.PERCENT,
        "amount": Decimal(10),
        "created_at": NOW,
    }
    return PromoCode(**(defaults | fields))


def percent(amount: str) -> PromoCode:
    return a_code(amount=Decimal(amount))


def fixed(amount: int) -> PromoCode:
    return a_code(discount_type=DiscountType.FIXED, amount=Decimal(amount))


def field_codes(code: PromoCode) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        code.check()
    return {e.field: e.code for e in raised.value.errors}


class TestDiscount:
    @pytest.mark.parametrize(
        ("amount", "price", "discount"),
        [
            ("15", 1999, 300),
            ("12.5", 1000, 125),
            ("12.5", 1001, 125),
            ("12.5", 1004, 126),
            ("33.33", 100, 33),
            ("0.5", 100, 1),
            ("0.49", 100, 0),
            ("0", 1999, 0),
            ("100", 1999, 1999),
        ],
    )
    def test_a_percentage_is_rounded_half_up_to_the_minor_unit(
        self, amount: str, price: int, discount: int
    ) -> None:
        assert discount_for(percent(amount), price) == discount

    def test_a_hundred_percent_makes_the_price_zero(self) -> None:
        assert discount_for(percent("100"), 4999) == 4999

    def test_a_fixed_amount_above_the_price_takes_only_the_price(self) -> None:
        assert discount_for(fixed(5000), 1999) == 1999
        assert discount_for(fixed(500), 1999) == 500

    def test_a_free_event_gets_no_discount(self) -> None:
        assert discount_for(percent("50"), 0) == 0
        assert discount_for(fixed(500), 0) == 0


class TestRules:
    def test_codes_are_compared_trimmed_and_case_insensitively(self) -> None:
        assert code_key("  Spring-25 ") == code_key("SPRING-25") == "spring-25"

    @pytest.mark.parametrize("code", ["ab", "x" * 41])
    def test_a_code_has_three_to_forty_characters(self, code: str) -> None:
        assert field_codes(a_code(code=code)) == {"code": "invalid_length"}

    @pytest.mark.parametrize("code", ["spring 25", "spring!", "été2031", "a/b/c"])
    def test_a_code_holds_letters_digits_hyphens_and_underscores(
        self, code: str
    ) -> None:
        assert field_codes(a_code(code=code)) == {"code": "invalid"}

    def test_valid_codes_pass(self) -> None:
        a_code(code="Spr-ing_25").check()
        a_code(code="x" * 40).check()
        fixed(0).check()
        percent("99.99").check()

    @pytest.mark.parametrize(
        ("amount", "problem"),
        [("100.01", "out_of_range"), ("-1", "out_of_range"), ("12.345", "invalid")],
    )
    def test_a_percentage_is_0_to_100_with_two_decimals(
        self, amount: str, problem: str
    ) -> None:
        assert field_codes(percent(amount)) == {"amount": problem}

    def test_a_fixed_amount_is_a_whole_number_of_minor_units(self) -> None:
        assert field_codes(
            a_code(discount_type=DiscountType.FIXED, amount=Decimal("1.5"))
        ) == {"amount": "invalid"}
        assert field_codes(fixed(-1)) == {"amount": "out_of_range"}

    def test_an_amount_must_be_a_finite_number(self) -> None:
        assert field_codes(a_code(amount=Decimal("NaN"))) == {"amount": "invalid"}

    @pytest.mark.parametrize("name", ["max_uses", "max_uses_per_email"])
    def test_limits_of_uses_are_positive_or_none(self, name: str) -> None:
        assert field_codes(a_code(**{name: 0})) == {name: "out_of_range"}
        a_code(**{name: 1}).check()

    def test_the_end_of_validity_comes_after_its_start(self) -> None:
        code = a_code(valid_from=NOW, valid_until=NOW - timedelta(seconds=1))

        assert field_codes(code) == {"valid_until": "before_start"}
