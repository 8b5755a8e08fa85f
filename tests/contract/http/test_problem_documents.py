"""A domain error's fields never displace the problem document's own members."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from adapters.http.problems import problem_details_plugin
from platform_core.shared.errors import Conflict, DomainError, Throttled

MEMBERS = ("type", "title", "status", "detail", "instance", "code")


def raising(error: DomainError) -> Litestar:
    @get("/boom/", sync_to_thread=False)
    def boom() -> None:
        raise error

    return Litestar([boom], plugins=[problem_details_plugin()])


@pytest.mark.parametrize("member", [*MEMBERS, "headers", "extra"])
async def test_an_extra_named_like_a_member_is_kept_apart(member: str) -> None:
    error = Conflict("It clashed.", code="clashed")
    error.extra[member] = "from the error"

    async with AsyncTestClient(raising(error)) as client:
        response = await client.get("/boom/")

    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"] == "urn:platform:problem:clashed"
    assert problem["title"] == "Conflict"
    assert problem["status"] == 409
    assert problem["detail"] == "It clashed."
    assert problem["code"] == "clashed"
    assert "instance" not in problem
    if member in MEMBERS:
        assert problem[f"extra_{member}"] == "from the error"
    else:
        assert problem[member] == "from the error"


async def test_every_clashing_extra_is_kept_under_a_free_name() -> None:
    error = Conflict("It clashed.", status="a", extra_status="b")

    async with AsyncTestClient(raising(error)) as client:
        problem = (await client.get("/boom/")).json()

    assert problem["status"] == 409
    assert (problem["extra_status"], problem["extra_extra_status"]) == ("b", "a")


async def test_throttling_keeps_its_header_and_retry_after() -> None:
    error = Throttled("Slow down.", retry_after=30, status="x", headers="y")

    async with AsyncTestClient(raising(error)) as client:
        response = await client.get("/boom/")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    problem = response.json()
    assert (problem["retry_after"], problem["extra_status"], problem["headers"]) == (
        30,
        "x",
        "y",
    )
