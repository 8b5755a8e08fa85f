from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapters, build_memory_platform
from platform_core import Platform
from tests.support import Core


@pytest.fixture
def core() -> Core:
    platform, adapters = build_memory_platform(frontend_url="https://app.test")
    return Core(platform, adapters)


@pytest.fixture
def platform(core: Core) -> Platform:
    return core.platform


@pytest.fixture
def adapters(core: Core) -> MemoryAdapters:
    return core.adapters
