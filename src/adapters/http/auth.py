"""Who is calling: the bearer token's principal and the client's address."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.openapi.spec import Components, SecurityScheme

from platform_core import Platform
from platform_core.identity.errors import InvalidToken
from platform_core.identity.model import ClientInfo, Principal

BEARER = "BearerAuth"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]

OPENAPI_COMPONENTS = Components(
    security_schemes={
        BEARER: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
    }
)


class NotAuthenticated(InvalidToken):
    default_code = "not_authenticated"


async def provide_principal(
    request: Request[Any, Any, Any], platform: NamedDependency[Platform]
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(
            "Send an access token as `Authorization: Bearer <token>`."
        )
    return await platform.identity.authenticate(token.strip())


def provide_client(request: Request[Any, Any, Any]) -> ClientInfo:
    return ClientInfo(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent", ""),
    )
