"""A request id on every response and every log line of the request."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")

log = structlog.get_logger(__name__)


def printable(text: str) -> str:
    """The text with control characters escaped, so a path cannot drive a terminal."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode()
        for char in text
    )


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == HEADER.encode():
            candidate = value.decode("latin-1")
            if _ACCEPTABLE.match(candidate):
                return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost ASGI layer: binds the id to the log context and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log.info(
                    "http.request.completed",
                    method=scope.get("method"),
                    path=printable(str(scope.get("path", ""))),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )
