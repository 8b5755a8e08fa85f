from __future__ import annotations

import pytest

from adapters.settings import MailBackend, SettingsError, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})

    assert settings.port == 8000
    assert settings.resolved_database_url == "sqlite+aiosqlite:///var/platform.sqlite3"
    assert settings.broker_url is None
    assert settings.mail_backend is MailBackend.OUTBOX
    assert str(settings.resolved_mail_outbox) == "var/outbox"


def test_values_are_converted_to_their_types() -> None:
    settings = load_settings(
        {"PLATFORM_PORT": "9001", "PLATFORM_SMTP_STARTTLS": "false"}
    )
    assert settings.port == 9001
    assert settings.smtp_starttls is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PLATFORM_PORT", "eighty"),
        ("PLATFORM_PORT", "70000"),
        ("PLATFORM_DATABASE_URL", "mysql://localhost/db"),
        ("PLATFORM_BROKER_URL", "amqp://localhost"),
        ("PLATFORM_FRONTEND_URL", "app.example"),
        ("PLATFORM_SECRET_KEY", "too-short"),
        ("PLATFORM_MAIL_BACKEND", "carrier-pigeon"),
        ("PLATFORM_DATABSE_URL", "sqlite+aiosqlite:///x"),
    ],
)
def test_a_wrong_value_is_refused_naming_its_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        load_settings({variable: value})


def test_test_only_variables_are_left_alone() -> None:
    assert load_settings({"PLATFORM_TEST_POSTGRES_URL": "postgresql://x"}).port == 8000
