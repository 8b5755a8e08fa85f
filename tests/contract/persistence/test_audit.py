from __future__ import annotations

from datetime import timedelta

from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWorkFactory

from .support import NOW, Given, an_audit_record


class TestAdd:
    async def test_record_survives_the_round_trip_with_nested_details(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        actor = new_id()
        record = an_audit_record(
            "identity.password.changed",
            actor_id=actor,
            target_id=str(actor),
            client_address=None,
            details={
                "sessions_revoked": 3,
                "reasons": ["reset", "suspicious"],
                "client": {"user_agent": "curl/8", "trusted": False, "score": None},
                "note": "naïve café ✓",
            },
        )

        await given(record)

        async with uow_factory() as uow:
            assert await uow.audit.list() == [record]


class TestList:
    async def test_lists_newest_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        records = [an_audit_record(at=NOW + timedelta(seconds=n)) for n in range(3)]

        await given(*records)

        async with uow_factory() as uow:
            assert await uow.audit.list() == records[::-1]

    async def test_records_sharing_an_instant_list_the_last_added_first(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        records = [an_audit_record(f"step.{n}", at=NOW) for n in range(5)]

        await given(*records)

        async with uow_factory() as uow:
            listed = await uow.audit.list()
        assert [r.action for r in listed] == [f"step.{n}" for n in range(4, -1, -1)]

    async def test_filters_by_actor_and_action_and_counts_the_same_records(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        ada, grace = new_id(), new_id()
        ada_login = an_audit_record("identity.login.succeeded", actor_id=ada)
        ada_logout = an_audit_record("identity.logout", actor_id=ada)
        grace_login = an_audit_record("identity.login.succeeded", actor_id=grace)
        anonymous = an_audit_record("identity.login.failed")
        await given(ada_login, ada_logout, grace_login, anonymous)

        async with uow_factory() as uow:
            audit = uow.audit
            assert await audit.list(actor_id=ada) == [ada_logout, ada_login]
            assert await audit.count(actor_id=ada) == 2
            logins = await audit.list(action="identity.login.succeeded")
            assert logins == [grace_login, ada_login]
            assert await audit.count(action="identity.login.succeeded") == 2
            both = await audit.list(actor_id=grace, action="identity.login.succeeded")
            assert both == [grace_login]
            assert await audit.count(actor_id=grace, action="identity.logout") == 0
            assert await audit.count() == 4

    async def test_pages_with_offset_and_limit(
        self, uow_factory: UnitOfWorkFactory, given: Given
    ) -> None:
        records = [an_audit_record(at=NOW + timedelta(seconds=n)) for n in range(7)]
        await given(*records)
        newest_first = records[::-1]

        async with uow_factory() as uow:
            assert await uow.audit.list(limit=3) == newest_first[:3]
            assert await uow.audit.list(offset=3, limit=3) == newest_first[3:6]
            assert await uow.audit.list(offset=6, limit=3) == newest_first[6:]
            assert await uow.audit.list(offset=7) == []
