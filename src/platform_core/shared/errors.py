"""The error hierarchy every context raises; adapters map it to their medium."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field."""

    field: str
    code: str
    message: str


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    default_code: ClassVar[str] = "domain_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.extra: dict[str, Any] = extra


class NotFound(DomainError):
    default_code = "not_found"


class PermissionDenied(DomainError):
    default_code = "permission_denied"


class AuthenticationFailed(DomainError):
    default_code = "authentication_failed"


class Conflict(DomainError):
    default_code = "conflict"


class ValidationFailed(DomainError):
    """Input that breaks a rule; `errors` names each offending field."""

    default_code = "validation_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail, code=code, **extra)
        self.errors: list[FieldError] = errors or []


class Throttled(DomainError):
    default_code = "throttled"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class QuotaExceeded(DomainError):
    default_code = "quota_exceeded"


class NotConfigured(DomainError):
    default_code = "not_configured"


@dataclass(slots=True)
class FieldErrors:
    """Collects field errors and raises them together."""

    items: list[FieldError] = field(default_factory=list)

    def add(self, name: str, code: str, message: str) -> None:
        self.items.append(FieldError(name, code, message))

    def raise_if_any(self, detail: str = "The request has invalid fields.") -> None:
        if self.items:
            raise ValidationFailed(detail, errors=list(self.items))


def refuse_read_only(changes: Iterable[str], editable: Collection[str]) -> None:
    """Raise ValidationFailed naming every changed field that is not editable."""
    errors = FieldErrors()
    for name in sorted(set(changes) - set(editable)):
        errors.add(name, "read_only", "This field cannot be changed here.")
    errors.raise_if_any()


class ProviderUnavailable(DomainError):
    """A vendor (payment provider, meeting provider) did not answer; try again."""

    default_code = "provider_unavailable"
