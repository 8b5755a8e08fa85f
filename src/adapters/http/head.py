"""HEAD answered as GET without the body, as RFC 9110 section 9.3.2 asks."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    Message,
    Receive,
    Scope,
    Send,
)


class HeadAsGetMiddleware:
    """Route HEAD to the GET handler and send its status and headers only.

    The headers, Content-Length included, are those GET would send, so a client
    can check a resource's size, type or cache headers without downloading it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self._app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                empty: HTTPResponseBodyEvent = {
                    "type": "http.response.body",
                    "body": b"",
                    "more_body": False,
                }
                await send(empty)

        as_get: Scope = {**scope, "method": "GET"}
        await self._app(as_get, receive, headers_only)
