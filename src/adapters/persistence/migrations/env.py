"""Alembic environment: runs migrations over the project's async engine.

The URL comes from `config.attributes["url"]` (set by `migrate.py`) or the
`sqlalchemy.url` option; a caller may also hand over an open synchronous
connection in `config.attributes["connection"]`.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from adapters.persistence.engine import create_engine
from adapters.persistence.tables import metadata

config = context.config


def _database_url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL was given to the migrations")
    return str(url)


def _run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        # The project's SQLite engine issues BEGIN itself, which makes DDL
        # transactional there too: a failed upgrade leaves nothing behind.
        transactional_ddl=True if sqlite else None,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            _check_foreign_keys(connection)


def _check_foreign_keys(connection: Connection) -> None:
    # Migrations run with SQLite's foreign keys off, so check them once at the
    # end, inside the transaction, where a violation still undoes everything.
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        tables = sorted({str(row[0]) for row in violations})
        raise RuntimeError(f"migrations left broken foreign keys in {tables}")


async def _run_migrations_on_new_engine() -> None:
    engine = create_engine(_database_url(), sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


def _run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_migrations_offline()
elif isinstance(connection := config.attributes.get("connection"), Connection):
    _run_migrations(connection)
else:
    asyncio.run(_run_migrations_on_new_engine())
