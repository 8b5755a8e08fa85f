"""An organizer's public profile and the rules its fields follow."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

from email_validator import EmailNotValidError, validate_email

from platform_core.events.model import is_time_zone
from platform_core.identity.model import has_control_characters
from platform_core.shared.errors import FieldErrors
from platform_core.shared.ids import reads_as_uuid

ORGANIZATION_NAME_MAX = 200
SLUG_MIN = 3
SLUG_MAX = 60
BIO_MAX = 5000
URL_MAX = 500
SOCIAL_LINKS_MAX = 10
SOCIAL_NAME_MAX = 30
DEFAULT_ORGANIZATION_NAME = "Organizer"
DEFAULT_TIMEZONE = "UTC"

RESERVED_SLUGS = frozenset(
    {
        "about",
        "account",
        "admin",
        "administrator",
        "api",
        "app",
        "auth",
        "billing",
        "blog",
        "dashboard",
        "events",
        "help",
        "login",
        "logout",
        "media",
        "me",
        "new",
        "null",
        "organizers",
        "platform",
        "public",
        "root",
        "schema",
        "settings",
        "signup",
        "static",
        "staff",
        "support",
        "system",
        "undefined",
        "users",
        "webhooks",
        "www",
    }
)
"""Slugs nobody may take: they read as parts of the platform itself."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_SOCIAL_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_SUFFIX_ROOM = 7


@dataclass(slots=True)
class OrganizerProfile:
    """What the public sees of an organizer; `logo` is a stored file's key."""

    user_id: UUID
    organization_name: str
    slug: str
    created_at: datetime
    bio: str = ""
    website: str | None = None
    contact_email: str | None = None
    logo: str | None = None
    social_links: dict[str, str] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE
    updated_at: datetime | None = None

    def check(self) -> None:
        """Raise ValidationFailed naming every field that breaks a rule."""
        errors = FieldErrors()
        name = self.organization_name
        if not name.strip():
            errors.add("organization_name", "required", "Give the organization a name.")
        elif len(name) > ORGANIZATION_NAME_MAX:
            errors.add(
                "organization_name",
                "too_long",
                f"At most {ORGANIZATION_NAME_MAX} characters.",
            )
        elif has_control_characters(name):
            errors.add(
                "organization_name",
                "invalid",
                "Line breaks and control characters are not allowed.",
            )
        if (problem := slug_problem(self.slug)) is not None:
            errors.add("slug", *problem)
        if len(self.bio) > BIO_MAX:
            errors.add("bio", "too_long", f"At most {BIO_MAX} characters.")
        if "\x00" in self.bio:
            errors.add("bio", "invalid", "The text holds a NUL character.")
        if self.website is not None and not is_web_url(self.website):
            errors.add(
                "website",
                "invalid_url",
                f"Use an http:// or https:// address of at most {URL_MAX} characters.",
            )
        if not is_time_zone(self.timezone):
            errors.add(
                "timezone",
                "invalid",
                f"{self.timezone!r} is not an IANA time zone such as Europe/Paris.",
            )
        if len(self.social_links) > SOCIAL_LINKS_MAX:
            errors.add("social_links", "too_many", f"At most {SOCIAL_LINKS_MAX} links.")
        for label, url in self.social_links.items():
            if not (len(label) <= SOCIAL_NAME_MAX and _SOCIAL_NAME.match(label)):
                errors.add(
                    f"social_links.{label}",
                    "invalid_name",
                    f"Name a link with at most {SOCIAL_NAME_MAX} lowercase letters, "
                    "digits, hyphens or underscores, starting with a letter.",
                )
            elif not is_web_url(url, secure_only=True):
                errors.add(
                    f"social_links.{label}",
                    "invalid_url",
                    f"Use an https:// address of at most {URL_MAX} characters.",
                )
        errors.raise_if_any("The organizer profile is not valid.")


def slug_problem(slug: str) -> tuple[str, str] | None:
    """The code and message of what is wrong with a slug, or None."""
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return "invalid_length", f"Between {SLUG_MIN} and {SLUG_MAX} characters."
    if not _SLUG.match(slug):
        return (
            "invalid",
            "Use lowercase letters, digits and single hyphens between them.",
        )
    if slug in RESERVED_SLUGS:
        return "reserved", f"{slug!r} is reserved; choose another."
    if reads_as_uuid(slug):
        return "reserved", "A slug cannot read as a uuid; choose another."
    return None


def slug_base(text: str) -> str:
    """A valid slug made from a name, with room left for a numeric suffix."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    )
    slug = _SLUG_JUNK.sub("-", ascii_text.lower()).strip("-")
    slug = slug[: SLUG_MAX - _SUFFIX_ROOM].rstrip("-")
    if len(slug) < SLUG_MIN or slug in RESERVED_SLUGS or reads_as_uuid(slug):
        slug = f"organizer-{slug}" if slug else "organizer"
    return slug


def is_web_url(value: str, *, secure_only: bool = False) -> bool:
    """An absolute http(s) URL with a host, no credentials and no spaces."""
    if len(value) > URL_MAX or has_control_characters(value) or " " in value:
        return False
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return False
    schemes = ("https",) if secure_only else ("http", "https")
    return (
        parts.scheme in schemes
        and bool(parts.hostname)
        and parts.username is None
        and port_ok
    )


def clean_email(raw: str) -> str:
    """An address in ASCII (an international domain as punycode), or ValueError."""
    try:
        checked = validate_email(
            raw.strip(), check_deliverability=False, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error
    return checked.ascii_email or checked.normalized


def clean_social_links(raw: Mapping[str, str]) -> dict[str, str]:
    """Names lowercased and trimmed, URLs trimmed."""
    return {name.strip().lower(): url.strip() for name, url in raw.items()}
