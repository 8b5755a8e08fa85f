"""The featured image of an event: checked, stored, and replaced safely."""

from __future__ import annotations

from uuid import UUID

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import Mails
from platform_core.billing.model import Capability
from platform_core.events.model import Event
from platform_core.events.service import (
    hold_own_event,
    own_event,
    refuse_if_cancelled,
)
from platform_core.files.service import MediaFiles
from platform_core.identity.model import ClientInfo, Principal
from platform_core.shared.clock import Clock
from platform_core.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class EventImageService:
    """Sets an organizer's event image; the events context's upload use case."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        media: MediaFiles,
        entitlements: Entitlements,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._media = media
        self._entitlements = entitlements

    async def set_featured_image(
        self,
        actor: Principal,
        event_id: UUID,
        content: bytes,
        client: ClientInfo | None = None,
    ) -> Event:
        """Check and store a new image; the old file goes once the change is committed.

        Another organizer's event is not found, whatever the file; a cancelled
        event, and an account whose plan no longer makes it an organizer, are
        refused before the file is read; a refused image changes nothing and
        the old image stays.
        """
        async with self._uow() as uow:
            refuse_if_cancelled(await own_event(uow, actor, event_id))
            await self._entitlements.require_in(
                uow, actor.user_id, Capability.ORGANIZER, Mails()
            )
        key = await self._media.store_image(
            content, field="image", folder=f"events/{event_id}"
        )
        try:
            async with self._uow() as uow:
                event = await hold_own_event(uow, actor, event_id)
                refuse_if_cancelled(event)
                previous, event.featured_image = event.featured_image, key
                event.updated_at = self._clock.now()
                await uow.events.update(event)
                await write_audit(
                    uow.audit,
                    "events.event.image_changed",
                    at=self._clock.now(),
                    actor_id=actor.user_id,
                    target_type="event",
                    target_id=event.id,
                    client=client,
                )
                await uow.commit()
        except BaseException:
            await self._media.discard(key)
            raise
        await self._media.discard(previous)
        log.info("events.event.image_changed", event_id=str(event.id), key=key)
        return event
