from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

import pytest

from adapters.memory import MemoryAdapters, build_memory_platform
from adapters.memory.store import MemoryStore
from platform_core import IdentityPolicy, Platform
from platform_core.shared.errors import ValidationFailed
from tests.support import CLIENT, PASSWORD


class CommittedOnlyDispatcher:
    """Fails the test if it is handed a message that is not committed yet."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.seen: list[UUID] = []

    async def dispatch(self, message_ids: Sequence[UUID]) -> None:
        for message_id in message_ids:
            assert message_id in self.store.tables.outbox, "dispatched before commit"
            self.seen.append(message_id)


async def test_mail_is_handed_to_the_queue_only_after_commit() -> None:
    adapters = MemoryAdapters()
    dispatcher = CommittedOnlyDispatcher(adapters.store)
    platform = Platform(
        replace(adapters.ports(), dispatcher=dispatcher),
        IdentityPolicy("https://app.test"),
    )

    await platform.identity.sign_up(
        email="ada@example.org", password=PASSWORD, full_name="Ada", client=CLIENT
    )

    assert dispatcher.seen == list(adapters.store.tables.outbox)


async def test_a_refused_signup_records_and_dispatches_nothing() -> None:
    platform, adapters = build_memory_platform()

    with pytest.raises(ValidationFailed):
        await platform.identity.sign_up(
            email="ada@example.org", password="short", full_name="Ada", client=CLIENT
        )

    assert adapters.store.tables.outbox == {}
    assert adapters.dispatcher.dispatched == []
    assert adapters.store.tables.users == {}
