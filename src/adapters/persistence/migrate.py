"""Schema migrations: applying them and checking that they were applied."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

logger = structlog.get_logger(__name__)

MIGRATIONS_FOLDER = Path(__file__).with_name("migrations")


class SchemaOutOfDate(Exception):
    """The database has not been migrated to the revision the code expects."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current = current
        self.head = head
        at = f"revision {current}" if current else "no revision (an empty database)"
        super().__init__(
            f"The database schema is at {at} but the code needs {head}; "
            "run `platform db upgrade`."
        )


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration built in code; no alembic.ini is involved."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER).replace("%", "%%"))
    if url is not None:
        config.attributes["url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`, blocking until done.

    The migrations run on an event loop of their own, so when the caller's
    thread already runs one they are carried out on a helper thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url, revision)
        return
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(_upgrade, url, revision).result()


def _upgrade(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)
    logger.info("persistence.schema.upgraded", revision=revision)


@cache
def head_revision() -> str:
    """The revision the code expects the database to be at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_FOLDER}")
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an unmigrated database."""
    async with engine.connect() as connection:
        return await connection.run_sync(_read_current_revision)


def _read_current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def ensure_schema_current(engine: AsyncEngine) -> None:
    """Raises SchemaOutOfDate unless the database is at the head revision."""
    current, head = await current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(current, head)
