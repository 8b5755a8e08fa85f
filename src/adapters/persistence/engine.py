"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

logger = structlog.get_logger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str, *, sqlite_foreign_keys: bool = True) -> AsyncEngine:
    """An engine for `url`, tuned for the engine it names.

    `sqlite_foreign_keys=False` is for migrations only: SQLite rebuilds a
    table to alter it, and dropping the old copy must not cascade.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _create_sqlite_engine(parsed, foreign_keys=sqlite_foreign_keys)
    else:
        engine = create_async_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    logger.debug(
        "persistence.engine.created",
        dialect=parsed.get_backend_name(),
        driver=parsed.get_driver_name(),
        database=parsed.database,
    )
    return engine


def _create_sqlite_engine(url: URL, *, foreign_keys: bool) -> AsyncEngine:
    _create_parent_folder(url)
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_connection(
        dbapi_connection: Any, connection_record: ConnectionPoolEntry
    ) -> None:
        # The driver must not open transactions itself, so that the "begin"
        # hook below decides how every transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediately(connection: Connection) -> None:
        # Taking the write lock up front makes concurrent writers wait on
        # the busy timeout instead of failing when a read lock is upgraded.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _create_parent_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or url.query.get("uri"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def ping(engine: AsyncEngine) -> None:
    """Raises if the database cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
