from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.http.request_id import printable
from adapters.persistence import SchemaOutOfDate, upgrade_database
from adapters.settings import load_settings
from tests.contract.http.conftest import Api, served, settings_env
from tests.contract.http.test_registering import an_open_event, guest


class TestOperations:
    async def test_health_answers_while_the_process_lives(self, api: Api) -> None:
        response = await api.client.get("/health")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    async def test_ready_checks_database_and_broker(self, api: Api) -> None:
        response = await api.client.get("/ready")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "broker": "ok"}

    async def test_ready_is_503_when_the_broker_is_unreachable(
        self, tmp_path: Path
    ) -> None:
        settings = load_settings(
            settings_env(tmp_path, PLATFORM_BROKER_URL="redis://127.0.0.1:1/0")
        )
        upgrade_database(settings.resolved_database_url)
        container = build_container(settings)
        async with AsyncTestClient(create_app(container)) as client:
            response = await client.get("/ready")

        assert response.status_code == 503
        assert response.json()["checks"]["broker"] == "unavailable"

    async def test_openapi_describes_the_identity_endpoints(self, api: Api) -> None:
        response = await api.client.get("/schema/openapi.json")

        assert response.status_code == 200
        paths = response.json()["paths"]
        for path in (
            "/api/v1/auth/signup/",
            "/api/v1/auth/token/",
            "/api/v1/users/me/sessions/{uuid}/",
        ):
            assert path in paths

    async def test_openapi_documents_errors_as_problem_documents(
        self, api: Api
    ) -> None:
        document = (await api.client.get("/schema/openapi.json")).json()

        responses = document["paths"]["/api/v1/auth/token/"]["post"]["responses"]
        for status in ("400", "401", "403", "429"):
            assert list(responses[status]["content"]) == ["application/problem+json"]
        revoke = document["paths"]["/api/v1/users/me/sessions/{uuid}/"]["delete"]
        assert "404" in revoke["responses"]

    async def test_every_response_carries_a_request_id(self, api: Api) -> None:
        ok = await api.client.get("/health")
        missing = await api.client.get("/no/such/path")
        echoed = await api.client.get("/health", headers={"X-Request-ID": "abc-123"})

        assert len(ok.headers["x-request-id"]) >= 16
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"
        assert missing.headers["x-request-id"]
        assert echoed.headers["x-request-id"] == "abc-123"

    async def test_wrong_method_is_a_405_problem(self, api: Api) -> None:
        response = await api.client.get("/api/v1/auth/signup/")
        assert (response.status_code, response.json()["code"]) == (
            405,
            "method_not_allowed",
        )

    async def test_head_answers_like_get_without_the_body(self, api: Api) -> None:
        got = await api.client.get("/api/v1/plans/")
        head = await api.client.head("/api/v1/plans/")

        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))

    async def test_head_on_a_route_without_get_is_still_a_405(self, api: Api) -> None:
        response = await api.client.head("/api/v1/auth/signup/")

        assert (response.status_code, response.content) == (405, b"")

    async def test_head_over_a_socket_leaves_the_connection_usable(
        self, tmp_path: Path
    ) -> None:
        settings = load_settings(settings_env(tmp_path))
        upgrade_database(settings.resolved_database_url)
        with served(create_app(build_container(settings))) as base_url:
            async with httpx.AsyncClient(base_url=base_url) as client:
                head = await client.head("/api/v1/plans/")
                after = await client.get("/api/v1/plans/")

        assert (head.status_code, head.content) == (200, b"")
        assert int(head.headers["content-length"]) == len(after.content) > 0
        assert after.json()[0]["code"]


async def test_app_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    container = build_container(load_settings(settings_env(tmp_path)))

    with pytest.raises(BaseExceptionGroup) as refused:
        async with AsyncTestClient(create_app(container)):
            pass

    assert refused.group_contains(SchemaOutOfDate, match="platform db upgrade")


def test_logged_paths_have_control_characters_escaped() -> None:
    assert printable("/api/v1/zz\x1b[31mRED\x00") == "/api/v1/zz\\x1b[31mRED\\x00"
    assert printable("/api/v1/événements/42") == "/api/v1/événements/42"


async def test_stopping_finishes_the_mail_being_delivered(tmp_path: Path) -> None:
    settings = load_settings(settings_env(tmp_path))
    upgrade_database(settings.resolved_database_url)
    container = build_container(settings)
    people = 40

    async with AsyncTestClient(create_app(container)) as client:
        api = Api(client, container, settings.resolved_mail_outbox)
        event = await an_open_event(api)
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/api/v1/public/events/{event['slug']}/register/",
                    json=guest(n),
                )
                for n in range(people)
            )
        )
        assert {r.status_code for r in responses} == {201}

    confirmations = [m for m in api.mails() if m["To"].startswith("guest")]
    assert len(confirmations) == people
