"""Plan catalogue endpoints."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from platform_core import Platform
from platform_core.billing.model import Plan


class PriceResponse(msgspec.Struct):
    interval: str
    amount: int
    currency: str


class PlanResponse(msgspec.Struct):
    code: str
    name: str
    prices: list[PriceResponse]
    trial_days: int
    capabilities: list[str]
    limits: dict[str, int | None]

    @classmethod
    def of(cls, plan: Plan) -> PlanResponse:
        return cls(
            code=plan.code,
            name=plan.name,
            prices=[
                PriceResponse(p.interval.value, p.amount, p.currency)
                for p in plan.prices
            ],
            trial_days=plan.trial_days,
            capabilities=sorted(c.value for c in plan.capabilities),
            limits={name.value: value for name, value in sorted(plan.limits.items())},
        )


class PlanController(Controller):
    path = "/api/v1/plans"
    tags = ["billing"]

    @get("/", summary="Every plan a person can choose")
    async def list_plans(
        self, platform: NamedDependency[Platform]
    ) -> list[PlanResponse]:
        return [PlanResponse.of(plan) for plan in await platform.billing.list_plans()]
