from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
import redis.asyncio as redis
from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.persistence import upgrade_database
from adapters.security.throttle import NAMESPACE
from adapters.settings import load_settings
from tests.contract.http.conftest import Api, bearer, settings_env
from tests.support import PASSWORD


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/auth/verify-email/", {}, 400, "validation_error"),
        ("/api/v1/auth/verify-email/", {"token": 42}, 400, "validation_error"),
        ("/api/v1/auth/token/", {"email": "a@example.org"}, 400, "validation_error"),
        ("/api/v1/auth/token/refresh/", {"refresh": "garbage"}, 401, "token_not_valid"),
        ("/api/v1/auth/password-reset/", {}, 400, "validation_error"),
        (
            "/api/v1/auth/password-reset/confirm/",
            {"token": "made-up", "new_password": PASSWORD},
            400,
            "token_invalid",
        ),
        (
            "/api/v1/auth/password-reset/confirm/",
            {"token": "made-up"},
            400,
            "validation_error",
        ),
    ],
)
async def test_bad_request_bodies_are_problems_with_codes(
    api: Api, path: str, body: dict[str, object], status: int, code: str
) -> None:
    response = await api.client.post(path, json=body)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    assert problem["type"].endswith(code)
    assert problem["title"]


async def test_used_reset_link_is_400_token_used(api: Api) -> None:
    await api.verified_user()
    await api.client.post(
        "/api/v1/auth/password-reset/", json={"email": "ada@example.org"}
    )
    token = await api.last_link_token("reset-password", count=2)
    body = {"token": token, "new_password": "violet meadow compass 77"}
    await api.client.post("/api/v1/auth/password-reset/confirm/", json=body)

    again = await api.client.post("/api/v1/auth/password-reset/confirm/", json=body)

    assert (again.status_code, again.json()["code"]) == (400, "token_used")


async def test_signed_in_endpoints_refuse_anonymous_callers(api: Api) -> None:
    calls = [
        api.client.patch("/api/v1/users/me/", json={"first_name": "X"}),
        api.client.get("/api/v1/users/me/sessions/"),
        api.client.delete(f"/api/v1/users/me/sessions/{uuid.uuid4()}/"),
        api.client.post("/api/v1/users/me/sessions/logout-all/"),
    ]
    for response in await asyncio.gather(*calls):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


async def test_profile_names_are_validated(api: Api) -> None:
    tokens = await api.verified_user()

    empty = await api.client.patch(
        "/api/v1/users/me/", json={"first_name": " "}, headers=bearer(tokens)
    )
    both = await api.client.patch(
        "/api/v1/users/me/",
        json={"full_name": "A B", "first_name": "A"},
        headers=bearer(tokens),
    )
    wrong_type = await api.client.patch(
        "/api/v1/users/me/", json={"last_name": 7}, headers=bearer(tokens)
    )

    for response in (empty, both, wrong_type):
        assert response.status_code == 400
    me = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))
    assert me.json()["full_name"] == "Ada Lovelace"


async def _forget_login_failures(redis_url: str) -> None:
    client = redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{NAMESPACE}*"):
            await client.delete(key)
    finally:
        await client.aclose()


async def test_login_throttle_holds_across_server_processes(tmp_path: Path) -> None:
    redis_url = os.environ.get("PLATFORM_TEST_REDIS_URL")
    if not redis_url:
        pytest.fail("set PLATFORM_TEST_REDIS_URL (the Makefile sets it)")
    await _forget_login_failures(redis_url)
    env = settings_env(tmp_path, PLATFORM_REDIS_URL=redis_url)
    settings = load_settings(env)
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    account = f"{uuid.uuid4().hex}@example.org"
    wrong = {"email": account, "password": "wrong wrong wrong"}

    async with (
        AsyncTestClient(create_app(build_container(settings))) as first,
        AsyncTestClient(create_app(build_container(load_settings(env)))) as second,
    ):
        for client in (first, second, first, second, first):
            assert (
                await client.post("/api/v1/auth/token/", json=wrong)
            ).status_code == 401

        blocked = await second.post("/api/v1/auth/token/", json=wrong)

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


async def test_deeply_nested_json_is_a_400_not_a_crash(api: Api) -> None:
    body = '{"email":' + "[" * 5000 + "]" * 5000 + "}"

    response = await api.client.post(
        "/api/v1/auth/password-reset/",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


async def test_token_responses_are_never_cached(api: Api) -> None:
    tokens = await api.verified_user()
    refreshed = await api.client.post(
        "/api/v1/auth/token/refresh/", json={"refresh": tokens["refresh"]}
    )

    assert "no-store" in refreshed.headers["cache-control"]


async def test_control_characters_in_names_are_a_400(api: Api) -> None:
    tokens = await api.verified_user()

    response = await api.client.patch(
        "/api/v1/users/me/", json={"full_name": "Pg\u0000Name"}, headers=bearer(tokens)
    )

    assert response.status_code == 400
    me = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))
    assert me.json()["full_name"] == "Ada Lovelace"


async def test_a_concurrent_burst_of_wrong_passwords_is_throttled(api: Api) -> None:
    await api.verified_user()
    wrong = [{"email": "ada@example.org", "password": f"guess {n}"} for n in range(20)]

    responses = await asyncio.gather(
        *(api.client.post("/api/v1/auth/token/", json=body) for body in wrong)
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(401) == 5
    assert statuses.count(429) == 15
