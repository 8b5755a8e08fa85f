from __future__ import annotations

from functools import partial

import pytest

from platform_core.uow import UnitOfWorkFactory

from .support import Given, store


@pytest.fixture
def given(uow_factory: UnitOfWorkFactory) -> Given:
    """Stores entities, in order, in one committed unit of work."""
    return partial(store, uow_factory)
