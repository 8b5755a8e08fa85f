from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.persistence import (
    SchemaOutOfDate,
    alembic_config,
    create_engine,
    current_revision,
    ensure_schema_current,
    head_revision,
    metadata,
    ping,
    sql_uow_factory,
    upgrade_database,
)
from platform_core.shared.ids import new_id

from .support import a_session, a_user

TABLES = {t.name for t in metadata.sorted_tables}


async def schema_differences(engine: AsyncEngine) -> list[object]:
    def compare(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_database_url)
    yield engine
    await engine.dispose()


class TestMigrations:
    async def test_migrated_database_matches_the_table_definitions_exactly(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        upgrade_database(empty_database_url)

        assert await schema_differences(empty_engine) == []

    async def test_migrated_database_is_at_the_head_revision(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        upgrade_database(empty_database_url)

        assert await current_revision(empty_engine) == head_revision()
        await ensure_schema_current(empty_engine)

    async def test_upgrading_twice_changes_nothing(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        upgrade_database(empty_database_url)
        upgrade_database(empty_database_url)

        assert await current_revision(empty_engine) == head_revision()

    async def test_upgrade_also_runs_from_a_worker_thread(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        await asyncio.to_thread(upgrade_database, empty_database_url)

        assert await current_revision(empty_engine) == head_revision()

    async def test_upgrade_also_runs_on_a_connection_handed_to_alembic(
        self, empty_engine: AsyncEngine
    ) -> None:
        def upgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

        async with empty_engine.begin() as connection:
            await connection.run_sync(upgrade)

        assert await current_revision(empty_engine) == head_revision()

    async def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        upgrade_database(empty_database_url)
        config = alembic_config(empty_database_url)

        await asyncio.to_thread(command.downgrade, config, "base")

        assert await table_names(empty_engine) == {"alembic_version"}
        assert await current_revision(empty_engine) is None
        upgrade_database(empty_database_url)
        assert await table_names(empty_engine) == TABLES | {"alembic_version"}


class TestSchemaCheck:
    async def test_unmigrated_database_is_out_of_date_and_says_what_to_run(
        self, empty_engine: AsyncEngine
    ) -> None:
        with pytest.raises(SchemaOutOfDate) as raised:
            await ensure_schema_current(empty_engine)

        assert raised.value.current is None
        assert raised.value.head == head_revision()
        assert head_revision() in str(raised.value)
        assert "platform db upgrade" in str(raised.value)

    async def test_database_at_an_unknown_revision_is_out_of_date(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        upgrade_database(empty_database_url)
        async with empty_engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = 'from_the_future'")
            )

        with pytest.raises(SchemaOutOfDate, match="at revision from_the_future"):
            await ensure_schema_current(empty_engine)


class TestEngine:
    async def test_ping_reaches_the_database(self, empty_engine: AsyncEngine) -> None:
        await ping(empty_engine)

    async def test_foreign_keys_are_enforced(
        self, empty_database_url: str, empty_engine: AsyncEngine
    ) -> None:
        upgrade_database(empty_database_url)
        orphan = a_session(a_user(id=new_id()))

        async with sql_uow_factory(empty_engine)() as uow:
            with pytest.raises(IntegrityError):
                await uow.login_sessions.add(orphan)


class TestSqliteEngine:
    async def test_creates_the_folder_of_its_database_file(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "nested" / "deeper" / "platform.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await ping(engine)
        finally:
            await engine.dispose()

        assert path.exists()

    async def test_connections_use_wal_a_busy_timeout_and_foreign_keys(
        self, tmp_path: Path
    ) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}")
        try:
            async with engine.connect() as connection:
                pragma = connection.exec_driver_sql
                journal_mode = (await pragma("PRAGMA journal_mode")).scalar()
                busy_timeout = (await pragma("PRAGMA busy_timeout")).scalar()
                foreign_keys = (await pragma("PRAGMA foreign_keys")).scalar()
        finally:
            await engine.dispose()

        assert (journal_mode, foreign_keys) == ("wal", 1)
        assert busy_timeout is not None
        assert busy_timeout >= 30_000

    async def test_a_transaction_takes_the_write_lock_at_its_first_statement(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "platform.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        other_writer = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other_writer.execute("BEGIN IMMEDIATE")
        finally:
            other_writer.close()
            await engine.dispose()
