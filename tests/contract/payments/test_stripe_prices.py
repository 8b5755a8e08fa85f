"""The map between plans and Stripe prices, and how a wrong one is refused."""

from __future__ import annotations

import pytest

from adapters.stripe import StripePrices
from platform_core.billing.model import Interval


def test_prices_map_both_ways() -> None:
    prices = StripePrices(
        {"organizer:month": "price_om", "organizer_pro:year": "price_1PgafmB7"}
    )

    assert len(prices) == 2
    assert prices.price_id("organizer", Interval.MONTH) == "price_om"
    assert prices.price_id("organizer_pro", Interval.YEAR) == "price_1PgafmB7"
    assert prices.price_id("organizer", Interval.YEAR) is None
    assert prices.plan_for("price_om") == ("organizer", Interval.MONTH)
    assert prices.plan_for("price_1PgafmB7") == ("organizer_pro", Interval.YEAR)
    assert prices.plan_for("price_unknown") is None


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"organizer": "price_1"}, "'organizer' is not '<plan code>:<interval>'"),
        ({"Organizer:month": "price_1"}, "'Organizer:month' is not"),
        ({"organizer:month:x": "price_1"}, "'organizer:month:x' is not"),
        ({":month": "price_1"}, "':month' is not"),
        (
            {"organizer:week": "price_1"},
            "names the interval 'week'; use one of month, year",
        ),
        ({"organizer:month": ""}, "must be a price id such as 'price_123', not ''"),
        ({"organizer:month": "price 1"}, "not 'price 1'"),
        (
            {"organizer:month": "price_1", "organizer_pro:month": "price_1"},
            "'price_1' is given for both 'organizer:month' and 'organizer_pro:month'",
        ),
    ],
)
def test_a_wrong_entry_is_refused_by_name(
    mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match="Stripe price") as caught:
        StripePrices(mapping)

    assert message in str(caught.value)


def test_the_repr_lists_the_entries() -> None:
    prices = StripePrices({"organizer:year": "price_2", "organizer:month": "price_1"})

    assert repr(prices) == (
        "StripePrices({'organizer:month': 'price_1', 'organizer:year': 'price_2'})"
    )
