"""Files kept in a dictionary, for tests and embedding."""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_core.files.model import is_valid_key
from platform_core.files.ports import StoredFile


@dataclass(slots=True)
class MemoryFileStorage:
    """A FileStorage whose files live in `files`, keyed as stored."""

    base_url: str = "/media/"
    files: dict[str, StoredFile] = field(default_factory=dict)

    async def store(self, key: str, content: bytes, content_type: str) -> str:
        _check(key)
        self.files[key] = StoredFile(content=bytes(content), content_type=content_type)
        return key

    async def read(self, key: str) -> StoredFile | None:
        _check(key)
        return self.files.get(key)

    async def delete(self, key: str) -> None:
        _check(key)
        self.files.pop(key, None)

    def url_for(self, key: str) -> str:
        _check(key)
        return f"{self.base_url.rstrip('/')}/{key}"


def _check(key: str) -> None:
    if not is_valid_key(key):
        raise ValueError(f"{key!r} is not a storable key")
