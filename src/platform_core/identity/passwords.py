"""The password policy: long enough, typeable, not the email, not a common one."""

from __future__ import annotations

import unicodedata
from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from platform_core.shared.errors import FieldErrors

MIN_LENGTH = 12
MAX_LENGTH = 1024
MIN_DISTINCT_CHARACTERS = 5


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password(password: str, *, email: str, field: str = "password") -> None:
    """Raise ValidationFailed naming `field` when the password breaks the policy."""
    errors = FieldErrors()
    if len(password) < MIN_LENGTH:
        errors.add(
            field,
            "password_too_short",
            f"Use at least {MIN_LENGTH} characters.",
        )
    if len(password) > MAX_LENGTH:
        errors.add(
            field,
            "password_too_long",
            f"Use at most {MAX_LENGTH} characters.",
        )
    if any(unicodedata.category(c) == "Cc" for c in password):
        errors.add(
            field,
            "password_invalid_characters",
            "Control characters such as tabs, line breaks or NUL cannot be typed "
            "reliably at a login prompt; leave them out.",
        )
    if len(set(password.strip())) < MIN_DISTINCT_CHARACTERS:
        errors.add(
            field,
            "password_too_simple",
            f"Use at least {MIN_DISTINCT_CHARACTERS} different characters.",
        )
    folded = password.strip().casefold()
    local_part = email.partition("@")[0]
    if folded in (email, local_part):
        errors.add(
            field,
            "password_is_email",
            "The password must not be your email address.",
        )
    if folded in _common_passwords():
        errors.add(
            field,
            "password_too_common",
            "This password is among the most common ones; choose another.",
        )
    errors.raise_if_any("The password does not meet the password policy.")
