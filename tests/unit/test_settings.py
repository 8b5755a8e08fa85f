from __future__ import annotations

import pytest

from adapters.container import _smtp_settings
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


class TestSmtpSettings:
    def test_implicit_tls_alone_turns_starttls_off(self) -> None:
        settings = load_settings(
            {
                "PLATFORM_MAIL_BACKEND": "smtp",
                "PLATFORM_SMTP_TLS": "true",
                "PLATFORM_SMTP_PORT": "465",
            }
        )

        smtp = _smtp_settings(settings)

        assert settings.smtp_starttls is None
        assert (smtp.use_tls, smtp.starttls) == (True, False)

    def test_starttls_is_on_by_default(self) -> None:
        smtp = _smtp_settings(load_settings({"PLATFORM_MAIL_BACKEND": "smtp"}))

        assert (smtp.use_tls, smtp.starttls) == (False, True)

    def test_starttls_can_be_turned_off_explicitly(self) -> None:
        smtp = _smtp_settings(load_settings({"PLATFORM_SMTP_STARTTLS": "false"}))

        assert (smtp.use_tls, smtp.starttls) == (False, False)

    def test_starttls_and_implicit_tls_together_are_refused(self) -> None:
        with pytest.raises(SettingsError, match=r"^PLATFORM_SMTP_STARTTLS: "):
            load_settings(
                {"PLATFORM_SMTP_STARTTLS": "true", "PLATFORM_SMTP_TLS": "true"}
            )

    @pytest.mark.parametrize(
        ("given", "missing"),
        [
            ("PLATFORM_SMTP_USERNAME", "PLATFORM_SMTP_PASSWORD"),
            ("PLATFORM_SMTP_PASSWORD", "PLATFORM_SMTP_USERNAME"),
        ],
    )
    def test_a_login_needs_both_username_and_password(
        self, given: str, missing: str
    ) -> None:
        with pytest.raises(SettingsError, match=f"^{missing}: "):
            load_settings({given: "mailer"})

    @pytest.mark.parametrize("sender", ["nobody", "Platform <nobody>", "@example.org"])
    def test_a_sender_without_a_domain_is_refused(self, sender: str) -> None:
        with pytest.raises(SettingsError, match=r"^PLATFORM_MAIL_FROM: "):
            load_settings({"PLATFORM_MAIL_FROM": sender})

    def test_a_sender_with_a_display_name_is_accepted(self) -> None:
        settings = load_settings({"PLATFORM_MAIL_FROM": "Events <events@example.org>"})

        assert settings.mail_from == "Events <events@example.org>"


@pytest.mark.parametrize(
    "sender", ["x <a@b.org>\r\nBcc: z@evil.org", "Ä <a@bücher.example>"]
)
def test_a_sender_that_cannot_go_in_a_header_is_refused(sender: str) -> None:
    with pytest.raises(SettingsError, match=r"^PLATFORM_MAIL_FROM: "):
        load_settings({"PLATFORM_MAIL_FROM": sender})


class TestPaymentSettings:
    def test_local_payments_need_nothing_else(self) -> None:
        settings = load_settings({})

        assert settings.payments.value == "local"
        assert settings.stripe_prices == {}

    def test_stripe_prices_are_read_as_plan_interval_pairs(self) -> None:
        settings = load_settings(
            {
                "PLATFORM_PAYMENTS": "stripe",
                "PLATFORM_STRIPE_SECRET_KEY": "sk_test_123",
                "PLATFORM_STRIPE_WEBHOOK_SECRET": "whsec_123",
                "PLATFORM_STRIPE_PRICES": (
                    " organizer:month=price_a, organizer:year=price_b"
                ),
            }
        )

        assert settings.stripe_prices == {
            "organizer:month": "price_a",
            "organizer:year": "price_b",
        }

    @pytest.mark.parametrize(
        ("missing", "variable"),
        [
            ("PLATFORM_STRIPE_SECRET_KEY", "PLATFORM_STRIPE_SECRET_KEY"),
            ("PLATFORM_STRIPE_WEBHOOK_SECRET", "PLATFORM_STRIPE_WEBHOOK_SECRET"),
            ("PLATFORM_STRIPE_PRICES", "PLATFORM_STRIPE_PRICES"),
        ],
    )
    def test_stripe_needs_its_keys_and_prices(
        self, missing: str, variable: str
    ) -> None:
        environ = {
            "PLATFORM_PAYMENTS": "stripe",
            "PLATFORM_STRIPE_SECRET_KEY": "sk_test_123",
            "PLATFORM_STRIPE_WEBHOOK_SECRET": "whsec_123",
            "PLATFORM_STRIPE_PRICES": "organizer:month=price_a",
        }
        del environ[missing]

        with pytest.raises(SettingsError, match=f"^{variable}: "):
            load_settings(environ)

    @pytest.mark.parametrize(
        "prices", ["organizer=price_a", "organizer:week=price_a", "organizer:month="]
    )
    def test_a_malformed_price_list_is_refused(self, prices: str) -> None:
        with pytest.raises(SettingsError, match=r"^PLATFORM_STRIPE_PRICES: "):
            load_settings({"PLATFORM_STRIPE_PRICES": prices})

    def test_an_unknown_payments_backend_is_refused(self) -> None:
        with pytest.raises(SettingsError, match=r"^PLATFORM_PAYMENTS: "):
            load_settings({"PLATFORM_PAYMENTS": "paypal"})
