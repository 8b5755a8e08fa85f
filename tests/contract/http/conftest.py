from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from litestar.testing import AsyncTestClient

from adapters.container import Container, build_container
from adapters.http.app import create_app
from adapters.persistence import upgrade_database
from adapters.settings import load_settings
from tests.contract.conftest import PostgresServer
from tests.support import PASSWORD, token_from_link

MAIL_WAIT_SECONDS = 10.0
START_TIMEOUT_SECONDS = 20
SOCKET_CLIENTS = 200


@dataclass
class Api:
    """The real app on a fresh SQLite database, with mail in an outbox folder."""

    client: AsyncTestClient[Any]
    container: Container
    outbox: Path

    def mails(self) -> list[EmailMessage]:
        found = []
        for path in sorted(
            self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns
        ):
            message = email.message_from_bytes(
                path.read_bytes(), policy=email.policy.default
            )
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails() if m["To"] == address]

    async def wait_for_mails(self, count: int) -> list[EmailMessage]:
        """The outbox folder once it holds `count` messages."""
        return await self.wait_for_outbox(
            lambda mails: len(mails) >= count, f"{count} mails"
        )

    async def wait_for_outbox(
        self, ready: Callable[[list[EmailMessage]], bool], expected: str
    ) -> list[EmailMessage]:
        """The outbox folder once `ready` holds for its messages."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAIL_WAIT_SECONDS
        while not ready(mails := self.mails()):
            if loop.time() > deadline:
                subjects = [m["Subject"] for m in mails]
                raise AssertionError(f"expected {expected}, found {subjects}")
            await asyncio.sleep(0.02)
        return mails

    async def last_link_token(self, path: str, *, count: int) -> str:
        mails = await self.wait_for_mails(count)
        body = mails[-1].get_body(preferencelist=("plain",))
        assert body is not None
        return token_from_link(body.get_content(), path)

    async def signup(self, email_address: str = "ada@example.org") -> None:
        response = await self.client.post(
            "/api/v1/auth/signup/",
            json={
                "email": email_address,
                "password": PASSWORD,
                "full_name": "Ada Lovelace",
            },
        )
        assert response.status_code == 201, response.text

    async def verified_user(
        self, email_address: str = "ada@example.org"
    ) -> dict[str, str]:
        """Sign up and verify; returns the `access` and `refresh` tokens.

        Only mails with a verification link count, so other mails to the
        address still arriving (a registrant's, say) are never taken for it.
        """

        def links(mails: list[EmailMessage]) -> list[str]:
            texts = [_plain_text(m) for m in mails if m["To"] == email_address]
            return [t for t in texts if "/verify-email?" in t]

        already = len(links(self.mails()))
        await self.signup(email_address)
        mails = await self.wait_for_outbox(
            lambda mails: len(links(mails)) > already,
            f"a verification mail to {email_address}",
        )
        token = token_from_link(links(mails)[-1], "verify-email")
        response = await self.client.post(
            "/api/v1/auth/verify-email/", json={"token": token}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, str] = response.json()
        return tokens

    async def login(self, email_address: str = "ada@example.org") -> dict[str, str]:
        response = await self.client.post(
            "/api/v1/auth/token/", json={"email": email_address, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, str] = response.json()
        return tokens


def _plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access']}"}


def settings_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PLATFORM_DATA_DIR": str(data_dir),
        "PLATFORM_SECRET_KEY": "test-secret-" + "k" * 40,
        "PLATFORM_FRONTEND_URL": "https://app.test",
        "PLATFORM_MAX_REQUEST_BYTES": "65536",
        **extra,
    }


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    settings = load_settings(settings_env(tmp_path))
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    container = build_container(settings)
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client, container, settings.resolved_mail_outbox)


@pytest.fixture
async def postgres_api(
    tmp_path: Path, postgres_server: PostgresServer
) -> AsyncIterator[Api]:
    """The real app on a fresh, migrated PostgreSQL database."""
    url = await asyncio.to_thread(postgres_server.create_database)
    await asyncio.to_thread(upgrade_database, url)
    settings = load_settings(settings_env(tmp_path, PLATFORM_DATABASE_URL=url))
    container = build_container(settings)
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client, container, settings.resolved_mail_outbox)


@pytest.fixture(params=["sqlite", "postgres"])
def engine_api(request: pytest.FixtureRequest) -> Api:
    """The app through the in-process test client, on each engine.

    That client hands the app one request at a time: tests whose requests
    must overlap use `socket_api` or threads.
    """
    api: Api = request.getfixturevalue(
        "api" if request.param == "sqlite" else "postgres_api"
    )
    return api


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free local port; its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, lifespan="on", backlog=512
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)


@pytest.fixture(params=["sqlite", "postgres"])
async def socket_api(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Api]:
    """The app served by uvicorn over TCP, on each engine: requests overlap."""
    extra: dict[str, str] = {}
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        extra["PLATFORM_DATABASE_URL"] = await asyncio.to_thread(server.create_database)
    settings = load_settings(settings_env(tmp_path, **extra))
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    container = build_container(settings)
    limits = httpx.Limits(
        max_connections=SOCKET_CLIENTS, max_keepalive_connections=SOCKET_CLIENTS
    )
    with served(create_app(container)) as base_url:
        async with httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=120
        ) as client:
            yield Api(client, container, settings.resolved_mail_outbox)
