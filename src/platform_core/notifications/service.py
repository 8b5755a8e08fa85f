"""Use cases of in-app notifications: a person reads their own."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

import structlog

from platform_core.identity.model import Principal
from platform_core.notifications.model import Notification
from platform_core.shared.clock import Clock
from platform_core.shared.errors import NotFound
from platform_core.shared.pagination import Page, PageRequest
from platform_core.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class NotificationPage:
    """One page of a person's notifications, and how many of all are unread."""

    page: Page[Notification]
    unread: int


class NotificationService:
    """Lists a person's notifications and marks them read; nobody sees another's."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def list_notifications(
        self, actor: Principal, request: PageRequest, *, unread: bool | None = None
    ) -> NotificationPage:
        """Newest first; `unread` True keeps unread ones, False read ones."""
        async with self._uow() as uow:
            notifications = uow.notifications
            items = await notifications.list_for_user(
                actor.user_id,
                limit=request.page_size,
                offset=request.offset,
                unread=unread,
            )
            total = await notifications.count_for_user(actor.user_id, unread=unread)
            unread_count = (
                total
                if unread is True
                else await notifications.count_for_user(actor.user_id, unread=True)
            )
        return NotificationPage(Page(items, total, request), unread_count)

    async def mark_read(self, actor: Principal, notification_id: UUID) -> Notification:
        """Mark one of the caller's notifications read; reading it again keeps
        the first instant."""
        at = self._clock.now()
        async with self._uow() as uow:
            found = await uow.notifications.get(notification_id)
            if found is None or found.user_id != actor.user_id:
                raise NotFound(
                    "You have no notification with this id.", resource="notification"
                )
            if not await uow.notifications.mark_read(notification_id, at):
                return await uow.notifications.get(notification_id) or found
            await uow.commit()
        log.info("notifications.read", notification=str(notification_id))
        return replace(found, read_at=at)

    async def mark_all_read(self, actor: Principal) -> int:
        """Mark every unread notification of the caller read; how many were."""
        async with self._uow() as uow:
            marked = await uow.notifications.mark_all_read(
                actor.user_id, self._clock.now()
            )
            await uow.commit()
        log.info("notifications.all_read", user=str(actor.user_id), marked=marked)
        return marked
