"""Files in a local folder, written atomically and served by the HTTP app."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import structlog

from platform_core.files.model import content_type_of, is_valid_key
from platform_core.files.ports import StoredFile

log = structlog.get_logger(__name__)

FILE_MODE = 0o644


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target, flush to disk, then rename over it.

    Readers see the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class LocalFileStorage:
    """A FileStorage over a folder; the key's extension gives the content type."""

    def __init__(self, root: Path, base_url: str) -> None:
        self._root = root
        self._base_url = base_url if base_url.endswith("/") else f"{base_url}/"

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, key: str) -> Path:
        """The file a key names, or ValueError for a key that could leave the folder."""
        if not is_valid_key(key):
            raise ValueError(f"{key!r} is not a storable key")
        root = self._root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root):
            raise ValueError(f"{key!r} leads outside the storage folder")
        return path

    async def store(self, key: str, content: bytes, content_type: str) -> str:
        path = self.path_for(key)
        await asyncio.to_thread(_write_atomically, path, content)
        log.info("storage.local.stored", key=key, size=len(content))
        return key

    async def read(self, key: str) -> StoredFile | None:
        path = self.path_for(key)
        try:
            content = await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return StoredFile(content=content, content_type=content_type_of(key))

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    def url_for(self, key: str) -> str:
        if not is_valid_key(key):
            raise ValueError(f"{key!r} is not a storable key")
        return f"{self._base_url}{key}"
