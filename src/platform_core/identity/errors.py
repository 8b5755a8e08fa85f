"""Errors of the identity context, each with its stable code."""

from __future__ import annotations

from platform_core.shared.errors import (
    AuthenticationFailed,
    PermissionDenied,
    ValidationFailed,
)


class InvalidCredentials(AuthenticationFailed):
    default_code = "invalid_credentials"


class InvalidToken(AuthenticationFailed):
    """A bearer or refresh token that is malformed, forged, expired or revoked."""

    default_code = "token_not_valid"


class RefreshTokenReused(AuthenticationFailed):
    default_code = "refresh_token_reused"


class EmailNotVerified(PermissionDenied):
    default_code = "email_not_verified"


class OneTimeTokenUnknown(ValidationFailed):
    default_code = "token_invalid"


class OneTimeTokenExpired(ValidationFailed):
    default_code = "token_expired"


class OneTimeTokenUsed(ValidationFailed):
    default_code = "token_used"
