"""The FileStorage implementations the contract suite runs against."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.memory import MemoryFileStorage
from adapters.storage.local import LocalFileStorage
from platform_core.files.ports import FileStorage

STORAGES = ("local", "memory")


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> FileStorage:
    if request.param == "local":
        return LocalFileStorage(tmp_path / "media", "/media/")
    return MemoryFileStorage(base_url="/media/")
