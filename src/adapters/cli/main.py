"""The `platform` command: serve, worker, scheduler, database and admin tools."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import uvicorn
from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cli.plans import PlanFile, describe, read_plan_document
from adapters.container import Container, build_container
from adapters.logging import configure_logging
from adapters.persistence import (
    SchemaOutOfDate,
    create_engine,
    current_revision,
    ensure_schema_current,
    head_revision,
    ping,
    upgrade_database,
)
from adapters.settings import Settings, SettingsError, load_settings
from adapters.worker import (
    BILLING_JOBS,
    build_scheduler,
    finish_in_process_tasks,
    run_scheduler,
    run_worker,
)
from adapters.worker.billing import REGISTRATION_JOBS, Job
from platform_core.billing.service import JobSummary
from platform_core.shared.errors import DomainError, ValidationFailed
from platform_core.shared.pagination import PageRequest

T = TypeVar("T")

app = typer.Typer(
    name="platform",
    help="Run and administer the events platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox of mail and other side effects.")
audit_app = typer.Typer(help="The audit trail.")
plans_app = typer.Typer(help="The plan catalogue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(audit_app, name="audit")
app.add_typer(plans_app, name="plans")
billing_app = typer.Typer(
    help="Run one billing job now (the scheduler runs them periodically).",
    no_args_is_help=True,
)
app.add_typer(billing_app, name="billing")
registrations_app = typer.Typer(
    help="Run one registrations job now (the scheduler runs them periodically).",
    no_args_is_help=True,
)
app.add_typer(registrations_app, name="registrations")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as error:
        fail(str(error), 2)
    configure_logging(settings.log_level, settings.log_format)
    return settings


class DatabaseUnreachable(Exception):
    """No connection could be made to the configured database."""

    def __init__(self, url: str, error: Exception) -> None:
        reason = error.orig if isinstance(error, DBAPIError) and error.orig else error
        lines = str(reason).strip().splitlines()
        super().__init__(
            f"cannot reach the database at {_redacted(url)}: "
            f"{lines[0] if lines else type(reason).__name__}"
        )


async def _connected(make_engine: Callable[[], AsyncEngine], url: str) -> AsyncEngine:
    """An engine that has just made a connection, or DatabaseUnreachable."""
    try:
        engine = make_engine()
    except OSError as error:
        raise DatabaseUnreachable(url, error) from error
    try:
        await _ping(engine)
    except (OperationalError, OSError) as error:
        await engine.dispose()
        raise DatabaseUnreachable(url, error) from error
    return engine


async def _ping(engine: AsyncEngine) -> None:
    """`ping`, waiting after a failure for the SQLite worker threads it started.

    aiosqlite reports a failed connection's shutdown to the event loop from its
    worker thread; were the loop closed by then, the thread would print a
    traceback on the way out of the command.
    """
    running = set(threading.enumerate())
    try:
        await ping(engine)
    except BaseException:
        for thread in set(threading.enumerate()) - running:
            if "_connection_worker_thread" in thread.name:
                thread.join(timeout=1)
        raise


def _run(
    work: Callable[[Container], Coroutine[Any, Any, T]],
    *,
    database: bool = True,
    current_schema: bool = True,
) -> T:
    """Run `work` with a container, turning domain errors into one readable line.

    With `database`, the database is reached first, so that a failure to
    connect is told apart from whatever `work` does later; with
    `current_schema` too, a schema that is behind is refused naming the fix.
    """
    settings = _settings()
    container = build_container(settings)

    async def main() -> T:
        if database:
            await _connected(container.engine, settings.resolved_database_url)
        try:
            if database and current_schema:
                await ensure_schema_current(container.engine())
            return await work(container)
        finally:
            await finish_in_process_tasks(container.broker())
            await container.engine().dispose()

    try:
        return asyncio.run(main())
    except (DomainError, SchemaOutOfDate, DatabaseUnreachable) as error:
        fail(_explain(error))


def _explain(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        reasons = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
        return f"{error.detail} {reasons}".strip()
    return str(error)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: PLATFORM_HOST.")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: PLATFORM_PORT.")
    ] = None,
) -> None:
    """Serve the HTTP API (refuses to start on an out-of-date schema)."""
    from adapters.http.app import create_app

    settings = _settings()
    container = build_container(settings)

    async def check() -> None:
        engine = await _connected(container.engine, settings.resolved_database_url)
        try:
            await ensure_schema_current(engine)
        finally:
            await engine.dispose()

    try:
        asyncio.run(check())
    except (SchemaOutOfDate, DatabaseUnreachable) as error:
        fail(str(error))
    container.engine.reset()
    uvicorn.run(
        create_app(container),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


def _needs_broker(settings: Settings, command: str) -> None:
    if settings.broker_url is None:
        fail(
            "PLATFORM_BROKER_URL is not set: with the in-memory broker, tasks run "
            "inside `platform serve`. Set it to redis://... to run "
            f"`platform {command}`.",
            2,
        )


@app.command()
def worker() -> None:
    """Run a task worker on the configured broker until interrupted."""
    settings = _settings()
    _needs_broker(settings, "worker")

    async def work(container: Container) -> None:
        await ensure_schema_current(container.engine())
        container.billing_tasks()
        await run_worker(container.tasks().broker)

    with suppress(KeyboardInterrupt):
        _run(work)


@app.command()
def scheduler() -> None:
    """Run the scheduler that kicks periodic jobs until interrupted."""
    settings = _settings()
    _needs_broker(settings, "scheduler")

    async def work(container: Container) -> None:
        await run_scheduler(
            build_scheduler(
                container.tasks(),
                drain_every_seconds=settings.outbox_poll_seconds,
                extra=container.billing_tasks().schedules(
                    settings.billing_jobs_seconds
                ),
            )
        )

    with suppress(KeyboardInterrupt):
        _run(work, database=False)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply migrations up to REVISION (the latest by default)."""
    url = _settings().resolved_database_url

    async def reach() -> None:
        engine = await _connected(lambda: create_engine(url), url)
        await engine.dispose()

    try:
        asyncio.run(reach())
        upgrade_database(url, revision)
    except DatabaseUnreachable as error:
        fail(str(error))
    except CommandError as error:
        fail(f"cannot upgrade to revision {revision!r}: {error}")
    except AssertionError as error:
        if not _raised_in_alembic_revision_map(error):
            raise
        fail(f"cannot upgrade to revision {revision!r}: alembic cannot resolve it")
    _owner_only(url)

    async def reached() -> str | None:
        engine = create_engine(url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    now_at = asyncio.run(reached())
    typer.echo(f"database at {now_at or 'no revision'} ({_redacted(url)})")


def _raised_in_alembic_revision_map(error: BaseException) -> bool:
    """Alembic asserts instead of raising CommandError on some revisions (head+5)."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    return (
        trace is not None
        and trace.tb_frame.f_globals.get("__name__") == "alembic.script.revision"
    )


def _owner_only(url: str) -> None:
    """Keep a SQLite database, which holds password hashes, from other users."""
    parsed = make_url(url)
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or parsed.query.get("uri")
    ):
        return
    path = Path(database).expanduser()
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        with suppress(FileNotFoundError):
            path.with_name(name).chmod(0o600)


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the one the code needs."""

    async def work(container: Container) -> str | None:
        return await current_revision(container.engine())

    current = _run(work, current_schema=False)
    typer.echo(f"database: {current or 'empty'}; code needs: {head_revision()}")


@outbox_app.command("drain")
def outbox_drain() -> None:
    """Deliver every due message of the outbox now."""

    async def work(container: Container) -> str:
        summary = await container.platform().outbox.drain()
        return (
            f"sent {summary.sent}, failed {summary.failed}, skipped {summary.skipped}"
        )

    typer.echo(_run(work))


@audit_app.command("list")
def audit_list(
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
) -> None:
    """Print the newest audit records."""

    async def work(container: Container) -> list[str]:
        page = await container.platform().audit.list_records(
            None, PageRequest(page_size=limit), action=action
        )
        return [
            f"{r.at.isoformat()} {r.action} actor={r.actor_id or '-'} "
            f"{r.target_type}={r.target_id or '-'} from={r.client_address or '-'}"
            for r in page.items
        ]

    for line in _run(work):
        typer.echo(line)


@plans_app.command("list")
def plans_list() -> None:
    """Print every plan, hidden ones included."""

    async def work(container: Container) -> list[str]:
        return [
            describe(plan)
            for plan in await container.platform().billing.list_all_plans()
        ]

    for line in _run(work):
        typer.echo(line)


@plans_app.command("upsert")
def plans_upsert(source: PlanFile) -> None:
    """Create a plan or replace the one with the same code, from a JSON document."""
    try:
        plan = read_plan_document(source)
    except (typer.BadParameter, OSError, ValidationFailed) as error:
        fail(_explain(error))

    async def work(container: Container) -> bool:
        return await container.platform().billing.upsert_plan(None, plan)

    created = _run(work)
    typer.echo(f"{'created' if created else 'updated'} plan {plan.code}")


def _job_command(group: typer.Typer, name: str, job: Job, help_text: str) -> None:
    def command() -> None:
        async def work(container: Container) -> JobSummary:
            return await job(container.platform())

        summary = _run(work)
        typer.echo(
            f"{summary.job}: examined {summary.examined}, changed {summary.changed}"
        )

    command.__doc__ = help_text
    group.command(name)(command)


_BILLING_HELP = {
    "reset-usage": "Start new usage periods for subscriptions whose period ended.",
    "expire-trials": "End trials that ended without payment; notify their owners.",
    "reconcile": "Bring every Stripe subscription in line with Stripe.",
    "notify": "Tell trialing accounts whose trial ends within 3 days.",
}
for _name, _job in BILLING_JOBS.items():
    _job_command(billing_app, _name, _job, _BILLING_HELP[_name])
_REGISTRATION_HELP = {
    "expire-holds": "Release seats whose payment hold ended to the waitlist.",
    "expire-offers": "Pass waitlist offers that ran out to the next in line.",
}
for _name, _job in REGISTRATION_JOBS.items():
    _job_command(registrations_app, _name, _job, _REGISTRATION_HELP[_name])


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email address.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    first_name: Annotated[str, typer.Option()] = "Admin",
    last_name: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a verified staff account; an existing email is left unchanged."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        fail("no terminal to ask for the password; use --password-stdin", 2)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(container: Container) -> tuple[str, bool]:
        user, created = await container.platform().identity.create_admin(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
        return user.email, created

    address, created = _run(work)
    if created:
        typer.echo(f"created admin {address}")
    else:
        typer.echo(f"an account for {address} already exists; nothing changed")


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def run() -> None:
    app()
