"""Persistence backends for the contract suites.

`uow_factory` runs a test once per backend: the in-memory store, a fresh
SQLite file (a copy of one migrated per session) and a PostgreSQL database
migrated for this session on the server named by PLATFORM_TEST_POSTGRES_URL,
emptied before each test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from adapters.memory import MemoryStore, MemoryUnitOfWork
from adapters.persistence import (
    create_engine,
    metadata,
    sql_uow_factory,
    upgrade_database,
)
from platform_core.uow import UnitOfWorkFactory

POSTGRES_URL_VARIABLE = "PLATFORM_TEST_POSTGRES_URL"
BACKENDS = ("memory", "sqlite", "postgres")
SQL_BACKENDS = ("sqlite", "postgres")

T = TypeVar("T")


def run_on_own_loop(work: Callable[[], Awaitable[T]]) -> T:
    """Runs a coroutine to completion on a private loop in a helper thread."""

    async def main() -> T:
        return await work()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, main()).result()


class PostgresServer:
    """Creates uniquely named databases on one server and drops them later."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.created: list[str] = []

    def create_database(self) -> str:
        name = f"platform_test_{uuid.uuid4().hex[:12]}"
        run_on_own_loop(partial(self._execute, f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_created_databases(self) -> None:
        for name in self.created:
            statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            run_on_own_loop(partial(self._execute, statement))
        self.created.clear()

    async def _execute(self, statement: str) -> None:
        engine = create_async_engine(
            self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The server named by PLATFORM_TEST_POSTGRES_URL; fails the test if unset."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.fail(
            f"{POSTGRES_URL_VARIABLE} is not set, so the postgres backend of the "
            "contract suites cannot run. Point it at a PostgreSQL server whose "
            "user may create databases, e.g. "
            f"{POSTGRES_URL_VARIABLE}=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
            " (`make test` sets it).",
            pytrace=False,
        )
    server = PostgresServer(url)
    yield server
    server.drop_created_databases()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A migrated database shared by the session; tests empty it first."""
    url = postgres_server.create_database()
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "platform.db"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database file in this test's folder."""
    path = tmp_path / "platform.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The migrated database of this backend, or None for the memory backend."""
    if backend == "memory":
        return None
    url: str = request.getfixturevalue(f"{backend}_url")
    return url


@pytest.fixture
async def uow_factory(
    backend: str, database_url: str | None
) -> AsyncIterator[UnitOfWorkFactory]:
    if database_url is None:
        store = MemoryStore()
        yield lambda: MemoryUnitOfWork(store)
        return

    engine = create_engine(database_url)
    try:
        if backend == "postgres":
            tables = ", ".join(t.name for t in metadata.sorted_tables)
            async with engine.begin() as connection:
                await connection.execute(
                    text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
                )
        yield sql_uow_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(params=SQL_BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database nobody has migrated yet, on each SQL engine."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'platform.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()
