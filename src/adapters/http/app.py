"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from adapters.container import Container
from adapters.http.auth import OPENAPI_COMPONENTS, provide_client
from adapters.http.billing import (
    DowngradeController,
    PaymentMethodController,
    PlanController,
    StripeWebhookController,
    SubscriptionController,
)
from adapters.http.custom_fields import CustomFieldController
from adapters.http.event_images import EventImageController
from adapters.http.events import EventController, EventSessionController
from adapters.http.head import HeadAsGetMiddleware
from adapters.http.health import health, ready
from adapters.http.identity import AuthController, MeController
from adapters.http.media import media_route
from adapters.http.notifications import NotificationController
from adapters.http.problems import problem_details_plugin, unexpected_error
from adapters.http.profiles import OrganizerController, OrganizerProfileController
from adapters.http.promo_codes import PricePreviewController, PromoCodeController
from adapters.http.public_events import PublicEventController
from adapters.http.registration_admin import (
    RegistrationAdminController,
    WaitlistOfferController,
)
from adapters.http.registrations import (
    MyRegistrationController,
    RegisterController,
)
from adapters.http.request_id import RequestIdMiddleware
from adapters.http.uploads import MULTIPART_PART_LIMIT
from adapters.runtime import Probe, Runtime
from platform_core import Platform
from platform_core.billing.ports import ProviderEventVerifier

API_VERSION = "1.0.0"


def _document_trailing_slashes(app: Litestar) -> None:
    """Show API paths with the trailing slash the contract uses.

    Litestar matches paths with or without it but documents them without.
    Paths of files (`calendar.ics`) keep their name as it is.
    """
    schema = app.openapi_schema
    schema.paths = {
        (
            f"{path}/"
            if path.startswith(("/api/", "/webhooks/"))
            and not path.endswith("/")
            and "." not in path.rsplit("/", 1)[-1]
            else path
        ): item
        for path, item in (schema.paths or {}).items()
    }


def create_app(container: Container) -> Litestar:
    """An app whose services all come from `container`."""
    runtime = Runtime(container)
    settings = container.settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await runtime.start(serve_tasks_in_process=True, tolerate_broker_outage=True)
        _document_trailing_slashes(app)
        try:
            yield
        finally:
            await runtime.stop()

    def provide_platform() -> Platform:
        return container.platform()

    def provide_stripe_events() -> ProviderEventVerifier:
        verifier: ProviderEventVerifier = container.provider_events()
        return verifier

    def provide_probes() -> dict[str, Probe]:
        return runtime.readiness_probes()

    app = Litestar(
        route_handlers=[
            health,
            ready,
            AuthController,
            MeController,
            DowngradeController,
            PlanController,
            SubscriptionController,
            PaymentMethodController,
            StripeWebhookController,
            NotificationController,
            EventController,
            EventSessionController,
            CustomFieldController,
            PublicEventController,
            OrganizerProfileController,
            OrganizerController,
            EventImageController,
            PromoCodeController,
            PricePreviewController,
            RegistrationAdminController,
            WaitlistOfferController,
            RegisterController,
            MyRegistrationController,
            media_route(settings.resolved_media_dir, settings.media_path),
        ],
        dependencies={
            "platform": Provide(provide_platform, sync_to_thread=False),
            "client": Provide(provide_client, sync_to_thread=False),
            "readiness_probes": Provide(provide_probes, sync_to_thread=False),
            "stripe_events": Provide(provide_stripe_events, sync_to_thread=False),
        },
        lifespan=[lifespan],
        plugins=[problem_details_plugin()],
        exception_handlers={Exception: unexpected_error},
        request_max_body_size=settings.max_request_bytes,
        multipart_form_part_limit=MULTIPART_PART_LIMIT,
        openapi_config=OpenAPIConfig(
            title="Platform API",
            version=API_VERSION,
            description="Accounts, sessions and the workflows of event organizers.",
            path="/schema",
            components=OPENAPI_COMPONENTS,
            render_plugins=[ScalarRenderPlugin()],
        ),
        logging_config=None,
        debug=False,
    )
    # Litestar runs its own middleware only for routed requests; wrapping the
    # handler gives 404s and 405s a request id too, and lets HEAD reach GET.
    app.asgi_handler = RequestIdMiddleware(HeadAsGetMiddleware(app.asgi_handler))
    return app
