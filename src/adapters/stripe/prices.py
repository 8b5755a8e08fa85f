"""Which Stripe price bills which plan and interval."""

from __future__ import annotations

import re
from collections.abc import Mapping

from platform_core.billing.model import Interval

_KEY = re.compile(r"^(?P<code>[a-z][a-z0-9_-]{1,39}):(?P<interval>[a-z]+)$")
_PRICE_ID = re.compile(r"^[A-Za-z0-9_]+$")


class StripePrices:
    """A two-way map between (plan code, interval) and Stripe price ids.

    Built from keys `"<plan code>:<interval>"`, e.g.
    `{"organizer:month": "price_123", "organizer:year": "price_456"}`; a key
    that is not of that shape, an empty price id, or one price id used for two
    keys is a ValueError naming the entry.
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        by_plan: dict[tuple[str, Interval], str] = {}
        by_price: dict[str, tuple[str, Interval]] = {}
        for key, price_id in mapping.items():
            match = _KEY.match(key)
            if match is None:
                raise ValueError(
                    f"Stripe price key {key!r} is not '<plan code>:<interval>', "
                    "e.g. 'organizer:month'"
                )
            try:
                interval = Interval(match["interval"])
            except ValueError:
                allowed = ", ".join(i.value for i in Interval)
                raise ValueError(
                    f"Stripe price key {key!r} names the interval "
                    f"{match['interval']!r}; use one of {allowed}"
                ) from None
            if not _PRICE_ID.match(price_id):
                raise ValueError(
                    f"Stripe price for {key!r} must be a price id such as "
                    f"'price_123', not {price_id!r}"
                )
            if price_id in by_price:
                code, other = by_price[price_id]
                raise ValueError(
                    f"Stripe price {price_id!r} is given for both "
                    f"'{code}:{other.value}' and {key!r}"
                )
            by_plan[(match["code"], interval)] = price_id
            by_price[price_id] = (match["code"], interval)
        self._by_plan = by_plan
        self._by_price = by_price

    def price_id(self, plan_code: str, interval: Interval) -> str | None:
        """The price that bills the plan at the interval, if one is configured."""
        return self._by_plan.get((plan_code, interval))

    def plan_for(self, price_id: str) -> tuple[str, Interval] | None:
        """The plan code and interval a price bills; None for a price not mapped."""
        return self._by_price.get(price_id)

    def __len__(self) -> int:
        return len(self._by_plan)

    def __repr__(self) -> str:
        entries = ", ".join(
            f"'{code}:{interval.value}': {price!r}"
            for (code, interval), price in sorted(self._by_plan.items())
        )
        return f"StripePrices({{{entries}}})"
