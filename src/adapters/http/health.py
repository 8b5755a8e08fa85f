"""Liveness and readiness."""

from __future__ import annotations

import msgspec
import structlog
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from adapters.runtime import Probe

log = structlog.get_logger(__name__)


class HealthResponse(msgspec.Struct):
    status: str


class ReadinessResponse(msgspec.Struct):
    status: str
    checks: dict[str, str]


@get("/health", tags=["operations"], summary="The process is alive")
async def health() -> HealthResponse:
    return HealthResponse(status="ok")


@get("/ready", tags=["operations"], summary="The database and the broker answer")
async def ready(
    readiness_probes: NamedDependency[dict[str, Probe]],
) -> Response[ReadinessResponse]:
    checks: dict[str, str] = {}
    for name, probe in readiness_probes.items():
        try:
            await probe()
            checks[name] = "ok"
        except Exception as error:  # a failing dependency is reported, never raised
            log.warning("health.ready.failed", dependency=name, error=str(error))
            checks[name] = "unavailable"
    healthy = all(state == "ok" for state in checks.values())
    return Response(
        ReadinessResponse(status="ready" if healthy else "unavailable", checks=checks),
        status_code=HTTP_200_OK if healthy else HTTP_503_SERVICE_UNAVAILABLE,
    )
