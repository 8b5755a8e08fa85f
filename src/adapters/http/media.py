"""Serving the local storage folder under the media path."""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import File

from platform_core.files.model import content_type_of, is_valid_key
from platform_core.shared.errors import NotFound

ONE_YEAR = 365 * 24 * 3600

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _existing_file(root: Path, key: str) -> Path | None:
    base = root.resolve()
    path = (base / key).resolve()
    if path.is_relative_to(base) and path.is_file():
        return path
    return None


def media_route(directory: Path, path: str) -> HTTPRouteHandler:
    """A GET route for the files under `directory`, at `path` + key.

    Keys are never reused (every upload gets a fresh one), so files are
    cached for a year.
    """

    @get(
        f"{path.rstrip('/')}/{{key:path}}",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=ONE_YEAR, public=True, immutable=True),
    )
    async def serve_media(key: FromPath[str]) -> File:
        name = key.lstrip("/")
        found = (
            await asyncio.to_thread(_existing_file, directory, name)
            if is_valid_key(name)
            else None
        )
        if found is None:
            raise NotFound("No file has this address.", resource="file")
        return File(
            path=found,
            media_type=content_type_of(name),
            content_disposition_type="inline",
            headers=HEADERS,
        )

    return serve_media
