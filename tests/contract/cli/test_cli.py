from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli.main import app
from tests.contract.http.conftest import settings_env
from tests.support import PASSWORD


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return settings_env(tmp_path, PLATFORM_LOG_LEVEL="warning")


def invoke(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.output


class TestDatabaseCommands:
    def test_upgrade_brings_an_empty_database_to_the_head(
        self, env: dict[str, str]
    ) -> None:
        code, before = invoke(env, "db", "current")
        assert code == 0
        assert "database: empty" in before

        code, _ = invoke(env, "db", "upgrade")
        assert code == 0

        code, after = invoke(env, "db", "current")
        current, needed = after.split(";")
        assert current.split(": ")[1].strip() == needed.split(": ")[1].strip()

    @pytest.mark.parametrize("revision", ["9999", "head+5"])
    def test_upgrade_to_an_unknown_revision_is_one_line(
        self, env: dict[str, str], revision: str
    ) -> None:
        code, output = invoke(env, "db", "upgrade", "--revision", revision)

        assert code == 1
        assert output.startswith(f"error: cannot upgrade to revision {revision!r}")
        assert len(output.strip().splitlines()) == 1

    def test_upgrade_leaves_the_sqlite_file_readable_by_its_owner_only(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        database = tmp_path / "platform.sqlite3"
        database.touch()
        database.chmod(0o644)

        code, _ = invoke(env, "db", "upgrade")

        assert code == 0
        assert stat.S_IMODE(database.stat().st_mode) == 0o600

    def test_serve_refuses_an_out_of_date_schema_naming_the_fix(
        self, env: dict[str, str]
    ) -> None:
        code, output = invoke(env, "serve")
        assert code == 1
        assert "platform db upgrade" in output

    @pytest.mark.parametrize("port", ["0", "65536", "99999", "-1"])
    def test_serve_refuses_a_port_that_cannot_be_bound(
        self, env: dict[str, str], port: str
    ) -> None:
        code, output = invoke(env, "serve", "--port", port)
        assert code == 2
        assert "--port" in output
        assert "Traceback" not in output


UNREACHABLE_COMMANDS = [
    ("db", "upgrade"),
    ("db", "current"),
    ("plans", "list"),
    ("audit", "list"),
    ("outbox", "drain"),
    ("create-admin", "--email", "root@example.org", "--password-stdin"),
]


class TestUnreachableDatabase:
    @pytest.mark.parametrize("command", UNREACHABLE_COMMANDS)
    def test_a_refused_connection_is_one_line_without_the_password(
        self, env: dict[str, str], command: tuple[str, ...]
    ) -> None:
        url = "postgresql+asyncpg://platform:hunter2-secret@127.0.0.1:1/platform"

        code, output = invoke(
            {**env, "PLATFORM_DATABASE_URL": url}, *command, stdin=f"{PASSWORD}\n"
        )

        assert code == 1
        assert output.startswith(
            "error: cannot reach the database at "
            "postgresql+asyncpg://127.0.0.1:1/platform: "
        )
        assert "hunter2" not in output
        assert len(output.strip().splitlines()) == 1

    @pytest.mark.parametrize("command", UNREACHABLE_COMMANDS)
    def test_an_unopenable_sqlite_file_is_one_line(
        self, env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
    ) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path}"

        code, output = invoke(
            {**env, "PLATFORM_DATABASE_URL": url}, *command, stdin=f"{PASSWORD}\n"
        )

        assert code == 1
        assert output.startswith(f"error: cannot reach the database at {url}: ")
        assert len(output.strip().splitlines()) == 1


class TestCreateAdmin:
    def test_creates_once_and_then_says_it_exists(self, env: dict[str, str]) -> None:
        invoke(env, "db", "upgrade")

        code, first = invoke(
            env,
            "create-admin",
            "--email",
            "Root@Example.org",
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )
        assert (code, first.strip()) == (0, "created admin root@example.org")

        code, second = invoke(
            env,
            "create-admin",
            "--email",
            "root@example.org",
            "--password-stdin",
            stdin="some other long password\n",
        )
        assert code == 0
        assert "already exists; nothing changed" in second

        code, audit = invoke(env, "audit", "list", "--action", "identity.admin.created")
        assert code == 0
        assert len(audit.strip().splitlines()) == 1

    def test_weak_password_is_one_line_and_a_non_zero_exit(
        self, env: dict[str, str]
    ) -> None:
        invoke(env, "db", "upgrade")

        code, output = invoke(
            env,
            "create-admin",
            "--email",
            "root@example.org",
            "--password-stdin",
            stdin="short\n",
        )

        assert code == 1
        assert output.startswith("error: ")
        assert "at least 12 characters" in output

    def test_without_a_terminal_it_asks_for_password_stdin(
        self, env: dict[str, str]
    ) -> None:
        code, output = invoke(env, "create-admin", "--email", "root@example.org")

        assert code == 2
        assert output.strip() == (
            "error: no terminal to ask for the password; use --password-stdin"
        )


class TestSettings:
    def test_a_wrong_value_stops_start_up_naming_the_variable(
        self, env: dict[str, str]
    ) -> None:
        code, output = invoke({**env, "PLATFORM_PORT": "eighty"}, "db", "upgrade")

        assert code == 2
        assert output.startswith("error: PLATFORM_PORT:")

    def test_worker_without_a_broker_explains_how_to_get_one(
        self, env: dict[str, str]
    ) -> None:
        code, output = invoke(env, "worker")

        assert code == 2
        assert "PLATFORM_BROKER_URL" in output


class TestPlans:
    def test_upsert_from_stdin_then_list(self, env: dict[str, str]) -> None:
        invoke(env, "db", "upgrade")
        document = (
            '{"code": "team", "name": "Team", "trial_days": 7,'
            ' "prices": [{"interval": "month", "amount": 4900, "currency": "EUR"}],'
            ' "capabilities": ["organizer"], "limits": {"events_per_period": 12},'
            ' "is_public": false}'
        )

        code, created = invoke(env, "plans", "upsert", "-", stdin=document)
        assert (code, created.strip()) == (0, "created plan team")
        code, updated = invoke(env, "plans", "upsert", "-", stdin=document)
        assert (code, updated.strip()) == (0, "updated plan team")

        code, listing = invoke(env, "plans", "list")
        assert code == 0
        team = next(line for line in listing.splitlines() if line.startswith("team"))
        assert "(hidden)" in team
        assert "events_per_period=12" in team

    def test_an_invalid_document_is_one_line_and_changes_nothing(
        self, env: dict[str, str]
    ) -> None:
        invoke(env, "db", "upgrade")
        _, before = invoke(env, "plans", "list")

        for document in (
            '{"code": "x y", "name": "Bad", "prices": []}',
            '{"code": "ok", "name": "Bad", "prices": [], "colour": "red"}',
            "not json",
        ):
            code, output = invoke(env, "plans", "upsert", "-", stdin=document)
            assert code != 0
            assert output.startswith("error: ")

        _, after = invoke(env, "plans", "list")
        assert after == before

    def test_a_limit_too_large_for_the_counters_is_one_line_and_changes_nothing(
        self, env: dict[str, str]
    ) -> None:
        invoke(env, "db", "upgrade")
        _, before = invoke(env, "plans", "list")
        document = (
            '{"code": "organizer", "name": "Organizer",'
            ' "prices": [{"interval": "month", "amount": 2900, "currency": "USD"}],'
            ' "capabilities": ["organizer"],'
            ' "limits": {"events_per_period": 100000000000000000000}}'
        )

        code, output = invoke(env, "plans", "upsert", "-", stdin=document)

        assert code == 1
        assert len(output.strip().splitlines()) == 1
        assert output.startswith("error: ")
        assert "limits.events_per_period: At most 1000000000" in output
        _, after = invoke(env, "plans", "list")
        assert after == before
