from __future__ import annotations

import uuid

import pytest

from platform_core.billing.model import (
    MAX_LIMIT,
    Capability,
    Interval,
    Limit,
    Plan,
    Price,
)
from platform_core.identity.model import Principal
from platform_core.shared.errors import PermissionDenied, ValidationFailed
from tests.support import Core

STAFF = Principal(user_id=uuid.uuid4(), session_id=uuid.uuid4(), is_staff=True)
MEMBER = Principal(user_id=uuid.uuid4(), session_id=uuid.uuid4())


def a_plan(code: str = "organizer", **changes: object) -> Plan:
    fields: dict[str, object] = {
        "code": code,
        "name": "Organizer",
        "prices": (
            Price(Interval.MONTH, 2900, "USD"),
            Price(Interval.YEAR, 29000, "USD"),
        ),
        "trial_days": 14,
        "capabilities": frozenset({Capability.ORGANIZER}),
        "limits": {Limit.EVENTS_PER_PERIOD: 5, Limit.CERTIFICATES_PER_PERIOD: None},
    }
    fields.update(changes)
    return Plan(**fields)


class TestPlanRules:
    def test_a_missing_limit_allows_nothing_and_none_is_unlimited(self) -> None:
        plan = a_plan()

        assert plan.limit(Limit.EVENTS_PER_PERIOD) == 5
        assert plan.limit(Limit.CERTIFICATES_PER_PERIOD) is None
        assert plan.limit(Limit.COURSES) == 0
        assert plan.allows(Capability.ORGANIZER)
        assert not plan.allows(Capability.LMS)
        assert plan.price_for(Interval.YEAR) == Price(Interval.YEAR, 29000, "USD")

    def test_the_largest_limit_is_allowed(self) -> None:
        plan = a_plan(limits={Limit.EVENTS_PER_PERIOD: MAX_LIMIT})

        assert plan.limit(Limit.EVENTS_PER_PERIOD) == 1_000_000_000

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"code": "Bad Code"}, "code"),
            ({"name": " "}, "name"),
            ({"prices": (Price(Interval.MONTH, -1, "USD"),)}, "prices"),
            ({"prices": (Price(Interval.MONTH, 100, "usd"),)}, "prices"),
            (
                {
                    "prices": (
                        Price(Interval.MONTH, 1, "USD"),
                        Price(Interval.MONTH, 2, "USD"),
                    )
                },
                "prices",
            ),
            ({"trial_days": 400}, "trial_days"),
            ({"prices": (Price(Interval.MONTH, 10**23, "USD"),)}, "prices"),
            ({"limits": {Limit.COURSES: -1}}, "limits.courses"),
            (
                {"limits": {Limit.EVENTS_PER_PERIOD: 100000000000000000000}},
                "limits.events_per_period",
            ),
            ({"limits": {Limit.COURSES: MAX_LIMIT + 1}}, "limits.courses"),
            ({"sort_order": 2**31}, "sort_order"),
        ],
    )
    def test_an_invalid_plan_names_the_field(
        self, changes: dict[str, object], field: str
    ) -> None:
        with pytest.raises(ValidationFailed) as refused:
            a_plan(**changes)
        assert field in [e.field for e in refused.value.errors]


class TestPlanCatalogue:
    async def test_public_listing_hides_hidden_plans_in_order(self, core: Core) -> None:
        billing = core.platform.billing
        await billing.upsert_plan(STAFF, a_plan("pro", sort_order=20))
        await billing.upsert_plan(STAFF, a_plan("basic", sort_order=10))
        await billing.upsert_plan(STAFF, a_plan("internal", is_public=False))

        assert [p.code for p in await billing.list_plans()] == ["basic", "pro"]
        assert len(await billing.list_all_plans()) == 3

    async def test_upsert_creates_then_replaces_and_is_audited(
        self, core: Core
    ) -> None:
        billing = core.platform.billing

        assert await billing.upsert_plan(None, a_plan(name="First"))
        assert not await billing.upsert_plan(STAFF, a_plan(name="Second"))

        assert (await billing.get_plan("organizer")).name == "Second"
        actions = [r.action for r in core.adapters.store.tables.audit]
        assert actions == ["billing.plan.created", "billing.plan.updated"]

    async def test_only_staff_may_change_plans(self, core: Core) -> None:
        with pytest.raises(PermissionDenied):
            await core.platform.billing.upsert_plan(MEMBER, a_plan())
        assert await core.platform.billing.list_all_plans() == []
