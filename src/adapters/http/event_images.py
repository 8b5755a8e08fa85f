"""The featured image upload of an organizer's event."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import EventResponse
from adapters.http.openapi import problems
from adapters.http.uploads import UPLOAD_MAX_BYTES, ImageUpload, read_upload
from platform_core import Platform
from platform_core.identity.model import ClientInfo, Principal


class EventImageController(Controller):
    path = "/api/v1/events"
    tags = ["events"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @post(
        "/{uuid:uuid}/upload-image/",
        status_code=HTTP_200_OK,
        summary="Upload the event's featured image (multipart field `image`)",
        description="A JPEG, PNG or WebP image of at most 5 MiB and 6000 pixels "
        "a side, recognised by its content. It is decoded in full and saved "
        "again without its metadata (EXIF orientation applied first); an "
        "animated image keeps its first frame. A refused file "
        "(`invalid_image`, `image_too_large`, `unsupported_image_type`, "
        "`image_dimensions_too_large`) leaves the old image in place. The "
        "event comes back with the served URL as `featured_image`.",
        request_max_body_size=UPLOAD_MAX_BYTES,
        responses=problems(400, 401, 403, 404, 413),
    )
    async def upload_image(
        self,
        uuid: FromPath[UUID],
        data: ImageUpload,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> EventResponse:
        content = await read_upload(data.image)
        event = await platform.event_images.set_featured_image(
            principal, uuid, content, client
        )
        return EventResponse.of(event, platform.media)
