"""`platform plans`: read and change the plan catalogue."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from platform_core.billing.model import Capability, Interval, Limit, Plan, Price


class PriceDocument(msgspec.Struct, forbid_unknown_fields=True):
    interval: Interval
    amount: int
    currency: str


class PlanDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A plan as JSON: the shape `GET /api/v1/plans/` shows, plus visibility."""

    code: str
    name: str
    prices: list[PriceDocument]
    trial_days: int = 0
    capabilities: list[Capability] = []
    limits: dict[Limit, int | None] = {}
    is_public: bool = True
    sort_order: int = 0

    def to_plan(self) -> Plan:
        return Plan(
            code=self.code,
            name=self.name,
            prices=tuple(Price(p.interval, p.amount, p.currency) for p in self.prices),
            trial_days=self.trial_days,
            capabilities=frozenset(self.capabilities),
            limits=dict(self.limits),
            is_public=self.is_public,
            sort_order=self.sort_order,
        )


def read_plan_document(source: Path) -> Plan:
    """Parse a plan from a JSON file, or from stdin when `source` is `-`."""
    raw = sys.stdin.buffer.read() if str(source) == "-" else source.read_bytes()
    try:
        document = msgspec.json.decode(raw, type=PlanDocument)
    except msgspec.ValidationError as error:
        raise typer.BadParameter(f"the plan is not valid: {error}") from error
    except msgspec.DecodeError as error:
        raise typer.BadParameter(f"the plan is not JSON: {error}") from error
    return document.to_plan()


def describe(plan: Plan) -> str:
    prices = ", ".join(
        f"{p.amount} {p.currency} minor units/{p.interval.value}" for p in plan.prices
    )
    limits = ", ".join(
        f"{name.value}={'unlimited' if value is None else value}"
        for name, value in sorted(plan.limits.items())
    )
    capabilities = ", ".join(sorted(c.value for c in plan.capabilities))
    hidden = "" if plan.is_public else " (hidden)"
    return (
        f"{plan.code}{hidden}: {plan.name}; {prices}; trial {plan.trial_days} days; "
        f"{capabilities or 'no capabilities'}; {limits or 'no limits'}"
    )


PlanFile = Annotated[
    Path, typer.Argument(help="A JSON plan document, or - to read it from stdin.")
]
