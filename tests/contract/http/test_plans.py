from __future__ import annotations

from tests.contract.http.conftest import Api


async def test_plans_are_public_and_show_prices_capabilities_and_limits(
    api: Api,
) -> None:
    response = await api.client.get("/api/v1/plans/")

    assert response.status_code == 200
    plans = {plan["code"]: plan for plan in response.json()}
    assert "attendee" in plans
    for plan in plans.values():
        assert set(plan) == {
            "code",
            "name",
            "prices",
            "trial_days",
            "capabilities",
            "limits",
        }
        for price in plan["prices"]:
            assert price["interval"] in {"month", "year"}
            assert isinstance(price["amount"], int)
            assert len(price["currency"]) == 3
    organizer_plans = [p for p in plans.values() if "organizer" in p["capabilities"]]
    assert any(
        isinstance(p["limits"].get("events_per_period"), int) for p in organizer_plans
    )
