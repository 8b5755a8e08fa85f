"""In-app notification endpoints: the caller's own, listed and marked read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.events import utc, utc_or_none
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.identity.model import Principal
from platform_core.notifications.model import Notification
from platform_core.notifications.service import NotificationPage
from platform_core.shared.pagination import PageRequest


class NotificationResponse(msgspec.Struct, kw_only=True):
    uuid: UUID
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification) -> NotificationResponse:
        return cls(
            uuid=notification.id,
            kind=notification.kind,
            title=notification.title,
            body=notification.body,
            created_at=utc(notification.created_at),
            read_at=utc_or_none(notification.read_at),
        )


class NotificationListResponse(msgspec.Struct, kw_only=True):
    count: int
    page: int
    page_size: int
    unread_count: int
    results: list[NotificationResponse]

    @classmethod
    def of(cls, found: NotificationPage) -> NotificationListResponse:
        return cls(
            count=found.page.total,
            page=found.page.request.page,
            page_size=found.page.request.page_size,
            unread_count=found.unread,
            results=[NotificationResponse.of(n) for n in found.page.items],
        )


class AllReadResponse(msgspec.Struct, kw_only=True):
    marked: int
    unread_count: int


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/",
        summary="My notifications, newest first, paginated",
        description="`unread=true` keeps the unread ones, `unread=false` the read "
        "ones. `count` counts the filtered notifications over all pages; "
        "`unread_count` counts every unread one.",
        responses=problems(400, 401),
    )
    async def list_notifications(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        unread: FromQuery[bool | None] = None,
        page: FromQuery[int] = 1,
        page_size: FromQuery[int] = 20,
    ) -> NotificationListResponse:
        found = await platform.notifications.list_notifications(
            principal, PageRequest(page=page, page_size=page_size), unread=unread
        )
        return NotificationListResponse.of(found)

    @post(
        "/read-all/",
        status_code=HTTP_200_OK,
        summary="Mark all my notifications read",
        responses=problems(401),
    )
    async def read_all(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> AllReadResponse:
        marked = await platform.notifications.mark_all_read(principal)
        return AllReadResponse(marked=marked, unread_count=0)

    @post(
        "/{uuid:uuid}/read/",
        status_code=HTTP_200_OK,
        summary="Mark one of my notifications read",
        description="Reading it again keeps the first `read_at`; another "
        "person's notification is not found.",
        responses=problems(401, 404),
    )
    async def read(
        self,
        uuid: FromPath[UUID],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
    ) -> NotificationResponse:
        return NotificationResponse.of(
            await platform.notifications.mark_read(principal, uuid)
        )
