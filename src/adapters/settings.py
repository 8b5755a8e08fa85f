"""One typed settings object, read once from `PLATFORM_*` environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from adapters.mail.message import sender_domain

ENV_PREFIX = "PLATFORM_"
MIN_SECRET_LENGTH = 32
IGNORED_PREFIX = "TEST_"

_RESERVED_PATHS = ("/api", "/webhooks", "/schema", "/health", "/ready")

Port = Annotated[int, Field(ge=1, le=65535)]
Positive = Annotated[int, Field(ge=1)]


class MailBackend(StrEnum):
    OUTBOX = "outbox"
    SMTP = "smtp"


class PaymentsBackend(StrEnum):
    LOCAL = "local"
    STRIPE = "stripe"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable."""


def _invalid(field: str, message: str, value: object) -> ValidationError:
    """An error on one field, for checks that look at several fields at once."""
    return ValidationError.from_exception_data(
        "Settings",
        [
            InitErrorDetails(
                type=PydanticCustomError("settings", message),
                loc=(field,),
                input=value,
            )
        ],
    )


class Settings(BaseModel):
    """Every setting of the platform; see the README for what each one does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: Port = 8000
    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    jwt_issuer: str = "platform"
    jwt_audience: str = "platform-api"
    access_token_minutes: Positive = 15
    refresh_token_days: Positive = 14
    frontend_url: str = "http://localhost:3000"
    mail_backend: MailBackend = MailBackend.OUTBOX
    mail_outbox: Path | None = None
    mail_from: str = "Platform <no-reply@localhost>"
    smtp_host: str = "localhost"
    smtp_port: Port = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool | None = None
    smtp_tls: bool = False
    smtp_timeout_seconds: Positive = 10
    max_request_bytes: Positive = 1_048_576
    media_dir: Path | None = None
    media_url: str = "/media/"
    login_failures_per_account: Positive = 5
    login_failures_per_address: Positive = 50
    login_failure_window_minutes: Positive = 15
    mail_requests_per_recipient: Positive = 5
    mail_requests_per_address: Positive = 60
    mail_request_window_minutes: Positive = 60
    promo_code_misses_per_address: Positive = 20
    promo_code_miss_window_minutes: Positive = 15
    outbox_poll_seconds: Positive = 10
    worker_idle_timeout_seconds: Positive = 60
    payments: PaymentsBackend = PaymentsBackend.LOCAL
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_prices: dict[str, str] = Field(default_factory=dict)
    stripe_api_base: str | None = None
    stripe_webhook_tolerance_seconds: Positive = 300
    billing_jobs_seconds: Positive = 300
    registration_hold_minutes: Positive = 15
    log_level: str = "info"
    log_format: LogFormat = LogFormat.CONSOLE

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(
            ("sqlite+aiosqlite://", "postgresql+asyncpg://")
        ):
            raise ValueError(
                "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("broker_url", "redis_url")
    @classmethod
    def _redis_only(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss"):
            raise ValueError("use a redis:// or rediss:// URL, or leave it unset")
        return value

    @field_validator("frontend_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("use an absolute http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str) -> str:
        parts = urlsplit(value)
        absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
        if not (absolute or (value.startswith("/") and not parts.netloc)):
            raise ValueError(
                "use a path such as /media/ or an absolute http:// or https:// URL"
            )
        path = parts.path.rstrip("/")
        taken = any(
            path == reserved or path.startswith(f"{reserved}/")
            for reserved in _RESERVED_PATHS
        )
        if parts.query or parts.fragment or not path or taken:
            raise ValueError(
                "use a path of its own, such as /media/, without query or "
                "fragment and outside " + ", ".join(_RESERVED_PATHS)
            )
        return f"{value.rstrip('/')}/"

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"use at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("mail_from")
    @classmethod
    def _sender_with_domain(cls, value: str) -> str:
        if not value.isascii() or any(not char.isprintable() for char in value):
            raise ValueError(
                "use printable ASCII; write an international domain in punycode"
            )
        try:
            sender_domain(value)
        except ValueError as error:
            raise ValueError(
                "use an address with a domain, like Platform <no-reply@example.org>"
            ) from error
        return value

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> Self:
        if self.smtp_starttls and self.smtp_tls:
            raise _invalid(
                "smtp_starttls",
                "choose STARTTLS or implicit TLS (PLATFORM_SMTP_TLS), not both; "
                "leave it unset to have STARTTLS unless implicit TLS is on",
                self.smtp_starttls,
            )
        return self

    @model_validator(mode="after")
    def _complete_login(self) -> Self:
        if self.smtp_username is not None and self.smtp_password is None:
            raise _invalid(
                "smtp_password", "set it too, since PLATFORM_SMTP_USERNAME is set", None
            )
        if self.smtp_password is not None and self.smtp_username is None:
            raise _invalid(
                "smtp_username", "set it too, since PLATFORM_SMTP_PASSWORD is set", None
            )
        return self

    @field_validator("stripe_prices", mode="before")
    @classmethod
    def _price_list(cls, value: object) -> object:
        """`organizer:month=price_1,organizer:year=price_2` as a mapping."""
        if not isinstance(value, str):
            return value
        prices: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            key, sep, price = item.partition("=")
            plan, colon, interval = key.strip().partition(":")
            if not (sep and colon and plan and price.strip()):
                raise ValueError(
                    f"{item!r} is not plan:interval=price_id, "
                    "e.g. organizer:month=price_123"
                )
            if interval not in ("month", "year"):
                raise ValueError(f"{item!r}: the interval is month or year")
            prices[f"{plan.strip()}:{interval}"] = price.strip()
        return prices

    @field_validator("stripe_api_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("use an absolute http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _complete_stripe(self) -> Self:
        if self.payments is not PaymentsBackend.STRIPE:
            return self
        for name in ("stripe_secret_key", "stripe_webhook_secret"):
            if not getattr(self, name):
                raise _invalid(name, "set it, since PLATFORM_PAYMENTS is stripe", None)
        if not self.stripe_prices:
            raise _invalid(
                "stripe_prices",
                "set the Stripe price of each plan and interval, "
                "e.g. organizer:month=price_123, since PLATFORM_PAYMENTS is stripe",
                None,
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in ("debug", "info", "warning", "error"):
            raise ValueError("use debug, info, warning or error")
        return value.lower()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'platform.sqlite3'}"

    @property
    def resolved_mail_outbox(self) -> Path:
        return self.mail_outbox or self.data_dir / "outbox"

    @property
    def resolved_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def media_path(self) -> str:
        """The path under which the HTTP app serves the local media folder."""
        return urlsplit(self.media_url).path

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept under the data folder."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return key_file.read_text().strip()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings; a wrong value raises SettingsError naming its variable."""
    source = os.environ if environ is None else environ
    values = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in source.items()
        if key.startswith(ENV_PREFIX)
        and value != ""
        and not key.startswith(ENV_PREFIX + IGNORED_PREFIX)
    }
    unknown = sorted(name for name in values if name not in Settings.model_fields)
    if unknown:
        raise SettingsError(f"{ENV_PREFIX}{unknown[0].upper()}: not a known setting")
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = (
            f"{ENV_PREFIX}{str(first['loc'][0]).upper()}"
            if first["loc"]
            else ENV_PREFIX
        )
        raise SettingsError(f"{name}: {first['msg']}") from error
