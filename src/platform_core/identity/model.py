"""Users, their login sessions and their one-time tokens."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from platform_core.shared.ids import new_id


def normalize_email(email: str) -> str:
    """Emails are compared trimmed and case-insensitively."""
    return email.strip().casefold()


def has_control_characters(text: str) -> bool:
    """True for text no name or address may hold (NUL, line breaks, ...)."""
    return any(unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") for char in text)


def split_full_name(full_name: str) -> tuple[str, str]:
    """The first word is the first name; the rest is the last name."""
    parts = full_name.split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


@dataclass(slots=True)
class User:
    email: str
    password_hash: str
    first_name: str
    last_name: str
    created_at: datetime
    id: UUID = field(default_factory=new_id)
    is_verified: bool = False
    verified_at: datetime | None = None
    is_active: bool = True
    is_staff: bool = False
    is_organizer: bool = False
    is_lms_owner: bool = False
    updated_at: datetime | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(slots=True)
class LoginSession:
    """A refresh-token family: one login and every token rotated from it."""

    user_id: UUID
    refresh_token_id: str
    user_agent: str
    client_address: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    id: UUID = field(default_factory=new_id)
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose name, not a secret


@dataclass(frozen=True, slots=True)
class SignupCredentials:
    """The password and names one signup chose, applied when its link is redeemed.

    Binding them to the link means a stranger who signs up first with someone
    else's address cannot choose the password the owner's verification sets.
    """

    password_hash: str
    first_name: str
    last_name: str


@dataclass(slots=True)
class OneTimeToken:
    """A single-use secret mailed to a user; only its digest is stored."""

    user_id: UUID
    purpose: TokenPurpose
    token_hash: str
    created_at: datetime
    expires_at: datetime
    id: UUID = field(default_factory=new_id)
    used_at: datetime | None = None
    credentials: SignupCredentials | None = None


class TokenType(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a signed access or refresh token says."""

    token_type: TokenType
    subject: UUID
    session_id: UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from."""

    address: str | None = None
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user acting within one login session."""

    user_id: UUID
    session_id: UUID
    is_staff: bool = False


@dataclass(frozen=True, slots=True)
class SessionView:
    session: LoginSession
    is_current: bool
