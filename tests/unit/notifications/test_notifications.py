"""A person's in-app notifications on the in-memory adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from platform_core.billing.model import Capability, Interval, Limit, Plan, Price
from platform_core.identity.model import Principal
from platform_core.notifications.model import Notification
from platform_core.shared.errors import NotFound
from platform_core.shared.ids import new_id
from platform_core.shared.pagination import PageRequest
from tests.support import Core

ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "USD"),),
    trial_days=14,
    capabilities=frozenset({Capability.ORGANIZER}),
    limits={Limit.EVENTS_PER_PERIOD: 3},
)


@pytest.fixture
async def ada(core: Core) -> Principal:
    return await core.principal(await core.verified_user())


async def _notify(core: Core, actor: Principal, count: int) -> list[Notification]:
    """`count` notifications, one minute apart, the newest last."""
    start = core.adapters.clock.now()
    made = [
        Notification(
            user_id=actor.user_id,
            kind="billing.payment_failed",
            title=f"Notice {n}",
            body="Something happened.",
            created_at=start + timedelta(minutes=n),
            dedupe_key=f"test:{actor.user_id}:{n}",
        )
        for n in range(count)
    ]
    async with core.adapters.ports().uow_factory() as uow:
        for notification in made:
            await uow.notifications.add(notification)
        await uow.commit()
    return made


class TestListing:
    async def test_newest_first_in_pages_with_the_unread_count(
        self, core: Core, ada: Principal
    ) -> None:
        made = await _notify(core, ada, 5)

        first = await core.platform.notifications.list_notifications(
            ada, PageRequest(page=1, page_size=2)
        )
        last = await core.platform.notifications.list_notifications(
            ada, PageRequest(page=3, page_size=2)
        )

        assert [n.id for n in first.page.items] == [made[4].id, made[3].id]
        assert [n.id for n in last.page.items] == [made[0].id]
        assert (first.page.total, first.unread) == (5, 5)

    async def test_only_the_callers_own_are_listed(
        self, core: Core, ada: Principal
    ) -> None:
        grace = await core.principal(await core.verified_user("grace@example.org"))
        await _notify(core, grace, 2)

        found = await core.platform.notifications.list_notifications(ada, PageRequest())

        assert (list(found.page.items), found.page.total, found.unread) == ([], 0, 0)

    async def test_an_expired_trial_is_there_to_read(
        self, core: Core, ada: Principal
    ) -> None:
        await core.platform.billing.upsert_plan(None, ORGANIZER)
        await core.platform.billing.subscribe(
            ada, plan_code="organizer", interval="month"
        )
        core.adapters.clock.advance(timedelta(days=14, seconds=1))
        await core.platform.billing.expire_trials()

        found = await core.platform.notifications.list_notifications(
            ada, PageRequest(), unread=True
        )

        assert [n.kind for n in found.page.items] == ["billing.trial_expired"]
        assert found.page.items[0].title == "Your trial has ended"


class TestMarkingRead:
    async def test_one_is_marked_read_once_and_leaves_the_unread_filter(
        self, core: Core, ada: Principal
    ) -> None:
        made = await _notify(core, ada, 3)
        when = core.adapters.clock.now()

        read = await core.platform.notifications.mark_read(ada, made[1].id)
        core.adapters.clock.advance(timedelta(hours=1))
        again = await core.platform.notifications.mark_read(ada, made[1].id)
        unread = await core.platform.notifications.list_notifications(
            ada, PageRequest(), unread=True
        )
        seen = await core.platform.notifications.list_notifications(
            ada, PageRequest(), unread=False
        )

        assert read.read_at == when
        assert again.read_at == when
        assert [n.id for n in unread.page.items] == [made[2].id, made[0].id]
        assert unread.unread == 2
        assert [n.id for n in seen.page.items] == [made[1].id]
        assert seen.unread == 2

    async def test_another_persons_notification_is_not_found(
        self, core: Core, ada: Principal
    ) -> None:
        grace = await core.principal(await core.verified_user("grace@example.org"))
        theirs = await _notify(core, grace, 1)

        for notification_id in (theirs[0].id, new_id()):
            with pytest.raises(NotFound):
                await core.platform.notifications.mark_read(ada, notification_id)

        found = await core.platform.notifications.list_notifications(
            grace, PageRequest()
        )
        assert found.unread == 1

    async def test_all_are_marked_read_and_nobody_elses(
        self, core: Core, ada: Principal
    ) -> None:
        grace = await core.principal(await core.verified_user("grace@example.org"))
        await _notify(core, ada, 3)
        await _notify(core, grace, 1)

        marked = await core.platform.notifications.mark_all_read(ada)
        again = await core.platform.notifications.mark_all_read(ada)

        assert (marked, again) == (3, 0)
        mine = await core.platform.notifications.list_notifications(ada, PageRequest())
        theirs = await core.platform.notifications.list_notifications(
            grace, PageRequest()
        )
        assert (mine.page.total, mine.unread) == (3, 0)
        assert theirs.unread == 1
