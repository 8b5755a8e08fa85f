"""What stored files need from the outside: a place to keep bytes, an image decoder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from platform_core.files.model import CheckedImage


@dataclass(frozen=True, slots=True)
class StoredFile:
    content: bytes
    content_type: str


class FileStorage(Protocol):
    """Bytes kept under keys such as `events/<uuid>/<random>.jpg`, served by URL."""

    async def store(self, key: str, content: bytes, content_type: str) -> str:
        """Keep `content` under `key`, replacing what was there, and return the key.

        Raises ValueError for a key that `is_valid_key` refuses.
        """
        ...

    async def read(self, key: str) -> StoredFile | None: ...

    async def delete(self, key: str) -> None:
        """Remove the file; a key that holds nothing is not an error."""
        ...

    def url_for(self, key: str) -> str:
        """Where a browser fetches the file."""
        ...


class ImageChecker(Protocol):
    """Decodes untrusted image bytes and encodes them again, metadata stripped."""

    async def check(self, content: bytes, *, field: str) -> CheckedImage:
        """The sanitized image, or ValidationFailed naming `field`.

        The codes are `image_too_large`, `unsupported_image_type`,
        `image_dimensions_too_large` and `invalid_image`.
        """
        ...
