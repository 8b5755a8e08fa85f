"""`platform billing <job>` against a real SQLite database."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.container import build_container
from adapters.settings import load_settings
from platform_core.identity.model import Principal
from tests.contract.cli.test_cli import invoke
from tests.contract.http.conftest import settings_env
from tests.support import PASSWORD


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return settings_env(tmp_path, PLATFORM_LOG_LEVEL="warning")


async def _canceled_plan_whose_period_ended(env: dict[str, str]) -> Principal:
    """An organizer who canceled, with the period over: the reset must end it."""
    container = build_container(load_settings(env))
    platform = container.platform()
    try:
        user, _ = await platform.identity.create_admin(
            email="ada@example.org", password=PASSWORD, first_name="Ada", last_name=""
        )
        actor = Principal(user_id=user.id, session_id=uuid.uuid4())
        await platform.billing.subscribe(actor, plan_code="organizer", interval="month")
        await platform.billing.cancel(actor)
        async with container.uow_factory()() as uow:
            current = await uow.subscriptions.current_for(user.id)
            assert current is not None
            current.current_period_end = platform.ports.clock.now() - timedelta(
                minutes=1
            )
            await uow.subscriptions.update(current)
            await uow.commit()
        return actor
    finally:
        await container.engine().dispose()


async def _plan_of(env: dict[str, str], actor: Principal) -> tuple[str, bool]:
    container = build_container(load_settings(env))
    try:
        view = await container.platform().billing.subscription(actor)
        user = await container.platform().identity.get_profile(actor)
        return view.subscription.plan_code, user.is_organizer
    finally:
        await container.engine().dispose()


class TestBillingJobs:
    def test_reset_usage_ends_a_canceled_plan_at_its_period_end(
        self, env: dict[str, str]
    ) -> None:
        assert invoke(env, "db", "upgrade")[0] == 0
        actor = asyncio.run(_canceled_plan_whose_period_ended(env))

        code, output = invoke(env, "billing", "reset-usage")
        again, second = invoke(env, "billing", "reset-usage")

        assert code == 0, output
        assert output.strip() == "reset-usage: examined 1, changed 1"
        assert (again, second.strip()) == (0, "reset-usage: examined 0, changed 0")
        assert asyncio.run(_plan_of(env, actor)) == ("attendee", False)

    @pytest.mark.parametrize("job", ["expire-trials", "reconcile", "notify"])
    def test_each_job_runs_and_reports(self, env: dict[str, str], job: str) -> None:
        assert invoke(env, "db", "upgrade")[0] == 0

        code, output = invoke(env, "billing", job)

        assert code == 0, output
        assert output.strip() == f"{job}: examined 0, changed 0"

    def test_an_unknown_job_is_a_usage_error(self, env: dict[str, str]) -> None:
        code, _ = invoke(env, "billing", "refund-everyone")

        assert code == 2

    def test_a_database_that_is_behind_is_one_line(self, env: dict[str, str]) -> None:
        code, output = invoke(env, "billing", "reset-usage")

        assert code == 1
        assert output.startswith("error: ")
        assert len(output.strip().splitlines()) == 1
