"""Every error as an RFC 9457 problem document with a stable `code`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

from platform_core.shared.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    NotConfigured,
    NotFound,
    PermissionDenied,
    ProviderUnavailable,
    QuotaExceeded,
    Throttled,
    ValidationFailed,
)

log = structlog.get_logger(__name__)

TYPE_PREFIX = "urn:platform:problem:"

_STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 400),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (QuotaExceeded, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Throttled, 429),
    (NotConfigured, 503),
    (ProviderUnavailable, 503),
]


MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "code"})
"""The problem document's own members; no error field may take their place."""

EXTRA_PREFIX = "extra_"


def _members(extra: Mapping[str, Any]) -> dict[str, Any]:
    """The error's fields as document members, clashing names moved aside.

    A field named like one of MEMBERS is kept under `extra_<name>` (with more
    prefixes until the name is free), so it never replaces the document's own.
    """
    taken = MEMBERS | {name for name in extra if name not in MEMBERS}
    members: dict[str, Any] = {}
    for name, value in extra.items():
        free = name
        while free in MEMBERS or (free != name and free in taken):
            free = EXTRA_PREFIX + free
        taken = taken | {free}
        members[free] = value
    return members


def _problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        type_=f"{TYPE_PREFIX}{code}",
        title=HTTPStatus(status).phrase,
        detail=detail,
        headers=headers,
        extra={**_members(extra or {}), "code": code},
    )


def domain_error_to_problem(error: DomainError) -> ProblemDetailsException:
    status = next((s for kind, s in _STATUS_BY_ERROR if isinstance(error, kind)), 400)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = dict(error.extra)
    if isinstance(error, ValidationFailed) and error.errors:
        extra["errors"] = [
            {"field": e.field, "code": e.code, "message": e.message}
            for e in error.errors
        ]
    if isinstance(error, Throttled):
        headers["Retry-After"] = str(error.retry_after)
        extra["retry_after"] = error.retry_after
    if isinstance(error, AuthenticationFailed):
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return _problem(
        status, error.code, error.detail, headers=headers or None, extra=extra
    )


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")


def _field_of(key: str | None, message: str) -> str:
    """The body field a decoding message is about, as a dotted path."""
    for pattern in (_UNKNOWN_FIELD, _MISSING_FIELD):
        if found := pattern.search(message):
            parent = _AT_PATH.search(message)
            prefix = f"{parent.group(1)}." if parent and parent.group(1) else ""
            return f"{prefix}{found.group(1)}"
    if found := _AT_PATH.search(message):
        return found.group(1) or "body"
    if not key or key == "data":
        return "body"
    return key


def validation_to_problem(error: ValidationException) -> ProblemDetailsException:
    errors = []
    raw = error.extra if isinstance(error.extra, list) else []
    for item in raw:
        if isinstance(item, dict):
            message = str(item.get("message", "Invalid value."))
            if message == "'data'":
                message = "A JSON request body is required."
            code = (
                "unknown_field"
                if _UNKNOWN_FIELD.search(message)
                else "required"
                if _MISSING_FIELD.search(message)
                else "invalid"
            )
            errors.append(
                {
                    "field": _field_of(item.get("key"), message),
                    "code": code,
                    "message": message,
                }
            )
    return _problem(
        400,
        "validation_error",
        "The request body or parameters are not valid.",
        extra={"errors": errors},
    )


_CODE_BY_STATUS = {
    401: "not_authenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}


_MULTIPART_LIMIT_DETAIL = "Request Entity Too Large"
"""How Litestar words its 400 for a multipart form past the part limit."""


def http_error_to_problem(error: HTTPException) -> ProblemDetailsException:
    status = error.status_code
    if status == 400 and error.detail == _MULTIPART_LIMIT_DETAIL:
        return _problem(
            413,
            "request_too_large",
            "The form has more parts than an upload takes; send the file field only.",
        )
    code = _CODE_BY_STATUS.get(
        status, HTTPStatus(status).phrase.lower().replace(" ", "_")
    )
    detail = error.detail if status < 500 else HTTPStatus(status).description
    return _problem(status, code, detail, headers=error.headers)


def too_deep_to_problem(error: RecursionError) -> ProblemDetailsException:
    """msgspec gives up on deeply nested JSON with a RecursionError."""
    return _problem(
        400, "validation_error", "The request body is nested too deeply to read."
    )


def unexpected_error(
    request: Request[Any, Any, Any], error: Exception
) -> Response[Any]:
    log.exception("http.request.failed", path=request.url.path, method=request.method)
    return _problem(
        500, "internal_error", "Something went wrong on our side; it has been logged."
    ).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                DomainError: domain_error_to_problem,
                ValidationException: validation_to_problem,
                HTTPException: http_error_to_problem,
                RecursionError: too_deep_to_problem,
            }
        )
    )
