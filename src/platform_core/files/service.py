"""Uploaded images: checked, stored under fresh keys, and shown by URL."""

from __future__ import annotations

import secrets

import structlog

from platform_core.files.ports import FileStorage, ImageChecker
from platform_core.shared.errors import NotConfigured

log = structlog.get_logger(__name__)


class MediaFiles:
    """Stores checked images for the other contexts and turns their keys into URLs."""

    def __init__(
        self, storage: FileStorage | None, images: ImageChecker | None
    ) -> None:
        self._storage = storage
        self._images = images

    async def store_image(self, content: bytes, *, field: str, folder: str) -> str:
        """Check and sanitize an image, keep it under a fresh key in `folder`."""
        if self._storage is None or self._images is None:
            raise NotConfigured(
                "File uploads are not configured on this platform.",
                code="storage_not_configured",
            )
        image = await self._images.check(content, field=field)
        key = f"{folder}/{secrets.token_hex(16)}.{image.format.extension}"
        await self._storage.store(key, image.content, image.format.content_type)
        log.info(
            "files.image.stored",
            key=key,
            format=image.format.value,
            width=image.width,
            height=image.height,
            size=len(image.content),
        )
        return key

    async def discard(self, key: str | None) -> None:
        """Delete a file nothing refers to any more; a failure is logged, not raised."""
        if key is None or self._storage is None:
            return
        try:
            await self._storage.delete(key)
        # The change that orphaned the file is committed; a leftover file only
        # costs disk space, so no storage error may turn it into a failure.
        except Exception:
            log.exception("files.delete.failed", key=key)
            return
        log.info("files.file.deleted", key=key)

    def url_for(self, key: str | None) -> str | None:
        """The URL of a stored file, or None when there is none."""
        if key is None or self._storage is None:
            return None
        return self._storage.url_for(key)
