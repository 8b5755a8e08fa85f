"""The relational schema, as SQLAlchemy Core tables.

The Alembic migrations are the source of truth; a contract test checks that
these tables match the migrated database on every supported engine.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An instant stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no offset, so values are converted to UTC before they are
    written and labelled UTC when they are read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text(), nullable=False),
    Column("first_name", Text(), nullable=False),
    Column("last_name", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("is_verified", Boolean(), nullable=False),
    Column("verified_at", UtcDateTime(), nullable=True),
    Column("is_active", Boolean(), nullable=False),
    Column("is_staff", Boolean(), nullable=False),
    Column("is_organizer", Boolean(), nullable=False),
    Column("is_lms_owner", Boolean(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("refresh_token_id", Text(), nullable=False),
    Column("user_agent", Text(), nullable=False),
    Column("client_address", Text(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoke_reason", Text(), nullable=True),
    Index(None, "user_id"),
)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("purpose", String(32), nullable=False),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
    Column("credentials", JSON(), nullable=True),
    Index(None, "token_hash", unique=True),
    Index(None, "user_id", "purpose"),
)

audit_records = Table(
    "audit_records",
    metadata,
    Column("seq", _Sequence, primary_key=True, autoincrement=True),
    Column("id", Uuid(), nullable=False, unique=True),
    Column("action", Text(), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor_id", Uuid(), nullable=True),
    Column("target_type", Text(), nullable=False),
    Column("target_id", Text(), nullable=True),
    Column("client_address", Text(), nullable=True),
    Column("details", JSON(), nullable=False),
    Index(None, "actor_id"),
    Index(None, "action"),
)

outbox_messages = Table(
    "outbox_messages",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("topic", Text(), nullable=False),
    Column("payload", JSON(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=True),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Index(None, "sent_at", "next_attempt_at"),
)

plans = Table(
    "plans",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("prices", JSON(), nullable=False),
    Column("trial_days", Integer(), nullable=False),
    Column("capabilities", JSON(), nullable=False),
    Column("limits", JSON(), nullable=False),
    Column("is_public", Boolean(), nullable=False),
    Column("sort_order", Integer(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

usage_counters = Table(
    "usage_counters",
    metadata,
    Column(
        "account_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(64), primary_key=True),
    Column("period_start", UtcDateTime(), primary_key=True),
    Column("used", Integer(), nullable=False, server_default=text("0")),
)

_CURRENT = text("ended_at IS NULL")
"""The rows of current subscriptions, which the partial indexes below cover."""

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "account_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("plan_code", String(40), nullable=False),
    Column("status", String(32), nullable=False),
    Column("interval", String(16), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("current_period_start", UtcDateTime(), nullable=False),
    Column("current_period_end", UtcDateTime(), nullable=False),
    Column("billing_anchor", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("trial_end", UtcDateTime(), nullable=True),
    Column("cancel_at_period_end", Boolean(), nullable=False),
    Column("canceled_at", UtcDateTime(), nullable=True),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("customer_ref", Text(), nullable=True),
    Column("external_ref", Text(), nullable=True),
    Column("item_ref", Text(), nullable=True),
    Column("synced_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index(None, "account_id"),
    Index(
        "ix_subscriptions_current_account_id",
        "account_id",
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    ),
    Index(None, "external_ref", unique=True),
    Index(
        None,
        "current_period_end",
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    ),
    Index(None, "trial_end", sqlite_where=_CURRENT, postgresql_where=_CURRENT),
)

billing_customers = Table(
    "billing_customers",
    metadata,
    Column(
        "account_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("provider", String(32), nullable=False),
    Column("customer_ref", Text(), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("default_payment_method", Text(), nullable=True),
)

gateway_events = Table(
    "gateway_events",
    metadata,
    Column("event_id", Text(), primary_key=True),
    Column("event_type", Text(), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", Text(), nullable=False),
    Column("title", Text(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("dedupe_key", Text(), nullable=False, unique=True),
    Column("read_at", UtcDateTime(), nullable=True),
    Index(None, "user_id", "created_at"),
)

events = Table(
    "events",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "organizer_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title", Text(), nullable=False),
    Column("slug", String(100), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("description", Text(), nullable=False),
    Column("format", String(16), nullable=False),
    Column("venue", Text(), nullable=False),
    Column("address", Text(), nullable=False),
    Column("capacity", Integer(), nullable=True),
    Column("registration_opens_at", UtcDateTime(), nullable=True),
    Column("registration_closes_at", UtcDateTime(), nullable=True),
    Column("price", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=True),
    Column("cpd_credits", Numeric(7, 2), nullable=False),
    Column("certificate_enabled", Boolean(), nullable=False),
    Column("min_attendance_percent", Integer(), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("waitlist_enabled", Boolean(), nullable=False),
    Column("waitlist_offer_hours", Integer(), nullable=True),
    Column("featured_image", Text(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("published_at", UtcDateTime(), nullable=True),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index(None, "organizer_id", "starts_at"),
    Index(None, "status", "visibility", "ends_at"),
    Index(None, "status", "visibility", "starts_at"),
)

event_sessions = Table(
    "event_sessions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "event_id",
        Uuid(),
        ForeignKey("events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title", Text(), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("meeting_url", Text(), nullable=True),
    Column("meeting_id", Text(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index(None, "event_id", "starts_at"),
)

event_custom_fields = Table(
    "event_custom_fields",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "event_id",
        Uuid(),
        ForeignKey("events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("label", Text(), nullable=False),
    Column("field_type", String(32), nullable=False),
    Column("required", Boolean(), nullable=False),
    Column("help_text", Text(), nullable=False),
    Column("options", JSON(), nullable=False),
    Column("position", Integer(), nullable=False),
    Column("required_if", JSON(none_as_null=True), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("archived_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index(None, "event_id", "position"),
)

organizer_profiles = Table(
    "organizer_profiles",
    metadata,
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("organization_name", Text(), nullable=False),
    Column("slug", String(60), nullable=False, unique=True),
    Column("bio", Text(), nullable=False),
    Column("website", Text(), nullable=True),
    Column("contact_email", String(320), nullable=True),
    Column("logo", Text(), nullable=True),
    Column("social_links", JSON(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Column("timezone", String(64), nullable=False, server_default=text("'UTC'")),
)

event_seats = Table(
    "event_seats",
    metadata,
    Column(
        "event_id",
        Uuid(),
        ForeignKey("events.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("taken", Integer(), nullable=False, server_default=text("0")),
    Column("arrivals", BigInteger(), nullable=False, server_default=text("0")),
)

_ACTIVE_REGISTRATION = text("status <> 'cancelled'")
"""Registrations that still count; one per event and email."""

registrations = Table(
    "registrations",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "event_id",
        Uuid(),
        ForeignKey("events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "user_id",
        Uuid(),
        ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("email", String(320), nullable=False),
    Column("email_key", String(320), nullable=False),
    Column("first_name", Text(), nullable=False),
    Column("last_name", Text(), nullable=False),
    Column("status", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("list_price", BigInteger(), nullable=False),
    Column("discount", BigInteger(), nullable=False),
    Column("currency", String(3), nullable=True),
    Column("promo_code_id", Uuid(), nullable=True),
    Column("arrival", BigInteger(), nullable=False),
    Column("waitlist_seq", BigInteger(), nullable=True),
    Column("hold_expires_at", UtcDateTime(), nullable=True),
    Column("offer_expires_at", UtcDateTime(), nullable=True),
    Column("payment_ref", Text(), nullable=True),
    Column("note", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("confirmed_at", UtcDateTime(), nullable=True),
    Column("cancelled_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index(
        "ix_registrations_active_event_id_email_key",
        "event_id",
        "email_key",
        unique=True,
        sqlite_where=_ACTIVE_REGISTRATION,
        postgresql_where=_ACTIVE_REGISTRATION,
    ),
    Index(None, "event_id", "arrival"),
    Index(None, "event_id", "status", "waitlist_seq"),
    Index(None, "user_id"),
    Index(None, "email_key"),
    Index(None, "promo_code_id"),
    Index(None, "status", "hold_expires_at"),
    Index(None, "status", "offer_expires_at"),
)

registration_answers = Table(
    "registration_answers",
    metadata,
    Column(
        "registration_id",
        Uuid(),
        ForeignKey("registrations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "field_id",
        Uuid(),
        ForeignKey("event_custom_fields.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("value", JSON(), nullable=False),
    Index(None, "field_id"),
)

promo_codes = Table(
    "promo_codes",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column(
        "organizer_id",
        Uuid(),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("code", String(40), nullable=False),
    Column("code_key", String(40), nullable=False),
    Column("discount_type", String(16), nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),
    Column("all_events", Boolean(), nullable=False),
    Column("valid_from", UtcDateTime(), nullable=True),
    Column("valid_until", UtcDateTime(), nullable=True),
    Column("max_uses", Integer(), nullable=True),
    Column("max_uses_per_email", Integer(), nullable=True),
    Column("is_active", Boolean(), nullable=False),
    Column("times_used", Integer(), nullable=False, server_default=text("0")),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Index(None, "organizer_id", "code_key", unique=True),
    Index(None, "organizer_id", "created_at"),
)

promo_code_events = Table(
    "promo_code_events",
    metadata,
    Column(
        "promo_code_id",
        Uuid(),
        ForeignKey("promo_codes.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "event_id",
        Uuid(),
        ForeignKey("events.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index(None, "event_id"),
)
