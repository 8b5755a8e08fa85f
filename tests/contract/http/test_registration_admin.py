"""An organizer's registrations and waitlist over HTTP, on SQLite."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.contract.cli.test_cli import invoke
from tests.contract.http.conftest import Api, bearer, settings_env
from tests.contract.http.test_events import create, field_errors, organizer, publish

PROBLEM = "application/problem+json"


def people(*numbers: int, **fields: Any) -> list[dict[str, Any]]:
    return [
        {
            "email": f"p{n}@example.org",
            "first_name": f"P{n}",
            "last_name": "Person",
            **fields,
        }
        for n in numbers
    ]


def base(event: dict[str, Any]) -> str:
    return f"/api/v1/events/{event['uuid']}/registrations"


async def an_event(api: Api, tokens: dict[str, str], **fields: Any) -> dict[str, Any]:
    event = await create(api, tokens, description="Two hours of talks.", **fields)
    return await publish(api, tokens, event["uuid"])


async def bulk(
    api: Api,
    tokens: dict[str, str],
    event: dict[str, Any],
    rows: list[dict[str, Any]],
    **fields: Any,
) -> dict[str, Any]:
    response = await api.client.post(
        f"{base(event)}/bulk/",
        json={"registrations": rows, **fields},
        headers=bearer(tokens),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listing(
    api: Api, tokens: dict[str, str], event: dict[str, Any], **params: Any
) -> dict[str, Any]:
    response = await api.client.get(
        f"{base(event)}/", params=params, headers=bearer(tokens)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def statuses(
    api: Api, tokens: dict[str, str], event: dict[str, Any]
) -> dict[str, str]:
    body = await listing(api, tokens, event, page_size=100)
    return {r["email"]: r["status"] for r in body["results"]}


class TestTenantIsolation:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/", None),
            ("GET", "/export.csv", None),
            ("POST", "/bulk/", {"registrations": people(9)}),
            ("GET", "/waitlist/", None),
            ("POST", "/waitlist/{uuid}/promote/", {}),
            ("DELETE", "/waitlist/{uuid}/", None),
            ("GET", "/{uuid}/", None),
            ("PATCH", "/{uuid}/", {"note": "mine now"}),
            ("POST", "/{uuid}/cancel/", None),
        ],
    )
    async def test_other_organizers_event_is_not_found(
        self, api: Api, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        ada = await organizer(api)
        bob = await organizer(api, "bob@example.org")
        event = await an_event(api, ada, capacity=1, waitlist_enabled=True)
        added = await bulk(api, ada, event, people(1, 2))
        waiting = added["results"][1]["uuid"]
        url = base(event) + path.format(uuid=waiting)

        response = await api.client.request(method, url, json=body, headers=bearer(bob))

        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert await statuses(api, ada, event) == {
            "p1@example.org": "confirmed",
            "p2@example.org": "waitlisted",
        }

    async def test_a_registration_of_my_other_event_is_not_found(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        first = await an_event(api, ada)
        second = await an_event(api, ada)
        added = await bulk(api, ada, first, people(1))
        uuid = added["results"][0]["uuid"]

        response = await api.client.post(
            f"{base(second)}/{uuid}/cancel/", headers=bearer(ada)
        )

        assert response.status_code == 404


class TestListing:
    async def test_rows_show_every_field_and_filters_apply(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=1, waitlist_enabled=True)
        await bulk(api, ada, event, people(1, 2))

        every = await listing(api, ada, event)
        waiting = await listing(api, ada, event, status="waitlisted")

        assert every["count"] == 2
        assert every["page"] == 1
        row = waiting["results"][0]
        assert set(row) >= {
            "uuid",
            "status",
            "email",
            "first_name",
            "last_name",
            "answers",
            "amount",
            "currency",
            "promo_code",
            "waitlist_position",
            "note",
            "source",
            "created_at",
            "confirmed_at",
            "cancelled_at",
        }
        assert (row["email"], row["waitlist_position"], row["source"]) == (
            "p2@example.org",
            1,
            "bulk",
        )

    async def test_search_ignores_case_and_takes_wildcards_literally(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)
        rows = [
            {"email": "a_b@example.org", "first_name": "Ann", "last_name": "Under"},
            {"email": "axb@example.org", "first_name": "Al", "last_name": "Cross"},
            {"email": "c@example.org", "first_name": "100%", "last_name": "Sure"},
            {"email": "d@example.org", "first_name": "1000", "last_name": "Doe"},
        ]
        await bulk(api, ada, event, rows)

        underscore = await listing(api, ada, event, search="a_b")
        percent = await listing(api, ada, event, search="100%")
        upper = await listing(api, ada, event, search="CROSS")

        assert [r["email"] for r in underscore["results"]] == ["a_b@example.org"]
        assert [r["email"] for r in percent["results"]] == ["c@example.org"]
        assert [r["email"] for r in upper["results"]] == ["axb@example.org"]

    async def test_an_unknown_status_is_a_bad_request(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)

        response = await api.client.get(
            f"{base(event)}/", params={"status": "lost"}, headers=bearer(ada)
        )

        assert response.status_code == 400


class TestExport:
    async def test_csv_is_an_attachment_with_answers_and_no_formulas(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)
        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/custom-fields/",
            json={"label": "Job title", "field_type": "short_text"},
            headers=bearer(ada),
        )
        assert response.status_code == 201, response.text
        job = response.json()["uuid"]
        await bulk(
            api,
            ada,
            event,
            [
                {
                    "email": "p1@example.org",
                    "first_name": "=cmd()",
                    "last_name": "Person",
                    "answers": {job: "+Surgeon"},
                }
            ],
        )

        response = await api.client.get(
            f"{base(event)}/export.csv", headers=bearer(ada)
        )

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            f'attachment; filename="{event["slug"]}-registrations.csv"'
        )
        header, row = list(csv.reader(io.StringIO(response.text)))
        assert header[-1] == "Job title"
        values = dict(zip(header, row, strict=True))
        assert values["first_name"] == "'=cmd()"
        assert values["Job title"] == "'+Surgeon"
        assert values["status"] == "confirmed"


class TestBulkAdd:
    async def test_a_thousand_rows_are_added_in_one_request(self, api: Api) -> None:
        ada = await organizer(api, plan="organizer_pro")
        event = await an_event(api, ada, capacity=990, waitlist_enabled=True)
        rows = people(*range(1000))

        body = await bulk(api, ada, event, rows)

        assert (body["added"], body["skipped"], body["refused"]) == (1000, 0, 0)
        outcomes = [r["status"] for r in body["results"]]
        assert outcomes.count("confirmed") == 990
        assert outcomes.count("waitlisted") == 10
        assert (await listing(api, ada, event))["count"] == 1000

    async def test_more_than_a_thousand_rows_is_a_bad_request(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)

        response = await api.client.post(
            f"{base(event)}/bulk/",
            json={"registrations": people(*range(1001))},
            headers=bearer(ada),
        )

        assert field_errors(response) == {"registrations": "too_many"}
        assert (await listing(api, ada, event))["count"] == 0

    async def test_one_bad_row_refuses_nothing_else(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=2)
        rows = [
            *people(1),
            {"email": "nope", "first_name": "X", "last_name": "Y"},
            *people(1),
            *people(2, 3),
        ]

        body = await bulk(api, ada, event, rows)

        assert [(r["index"], r["outcome"], r["code"]) for r in body["results"]] == [
            (0, "added", None),
            (1, "refused", "validation_error"),
            (2, "skipped", "duplicate_in_request"),
            (3, "added", None),
            (4, "refused", "event_full"),
        ]
        assert body["results"][1]["errors"][0]["field"] == "email"
        assert await statuses(api, ada, event) == {
            "p1@example.org": "confirmed",
            "p2@example.org": "confirmed",
        }

    async def test_ignore_capacity_goes_over_the_capacity(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=1)

        body = await bulk(api, ada, event, people(1, 2), ignore_capacity=True)

        assert [r["status"] for r in body["results"]] == ["confirmed", "confirmed"]

    async def test_ignore_capacity_stops_at_the_plans_registrations_per_event(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=10)

        body = await bulk(api, ada, event, people(*range(205)), ignore_capacity=True)

        assert (body["added"], body["refused"]) == (200, 5)
        refused = [r for r in body["results"] if r["outcome"] == "refused"]
        assert [r["index"] for r in refused] == [200, 201, 202, 203, 204]
        assert {r["code"] for r in refused} == {"quota_exceeded"}
        assert (await listing(api, ada, event))["count"] == 200

    async def test_an_unknown_row_field_is_a_bad_request(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)

        response = await api.client.post(
            f"{base(event)}/bulk/",
            json={"registrations": people(1, vip=True)},
            headers=bearer(ada),
        )

        assert response.status_code == 400
        assert (await listing(api, ada, event))["count"] == 0


class TestUpdateAndCancel:
    async def test_the_note_is_kept_and_a_long_one_refused(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)
        uuid = (await bulk(api, ada, event, people(1)))["results"][0]["uuid"]

        kept = await api.client.patch(
            f"{base(event)}/{uuid}/", json={"note": "Speaker"}, headers=bearer(ada)
        )
        long = await api.client.patch(
            f"{base(event)}/{uuid}/", json={"note": "x" * 2001}, headers=bearer(ada)
        )
        read_only = await api.client.patch(
            f"{base(event)}/{uuid}/",
            json={"email": "x@example.org"},
            headers=bearer(ada),
        )

        assert kept.status_code == 200, kept.text
        assert kept.json()["note"] == "Speaker"
        assert field_errors(long) == {"note": "too_long"}
        assert field_errors(read_only) == {"email": "read_only"}

    async def test_a_move_not_allowed_is_a_conflict_naming_it(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)
        uuid = (await bulk(api, ada, event, people(1)))["results"][0]["uuid"]

        response = await api.client.patch(
            f"{base(event)}/{uuid}/", json={"status": "waitlisted"}, headers=bearer(ada)
        )

        assert response.status_code == 409
        problem = response.json()
        assert problem["code"] == "transition_not_allowed"
        assert (problem["from_status"], problem["to_status"]) == (
            "confirmed",
            "waitlisted",
        )

    async def test_cancelling_promotes_the_next_and_twice_changes_nothing(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=1, waitlist_enabled=True)
        first = (await bulk(api, ada, event, people(1, 2, 3)))["results"][0]["uuid"]

        once = await api.client.post(
            f"{base(event)}/{first}/cancel/", headers=bearer(ada)
        )
        twice = await api.client.post(
            f"{base(event)}/{first}/cancel/", headers=bearer(ada)
        )

        assert once.status_code == twice.status_code == 200
        assert once.json() == twice.json()
        assert once.json()["status"] == "cancelled"
        assert await statuses(api, ada, event) == {
            "p1@example.org": "cancelled",
            "p2@example.org": "confirmed",
            "p3@example.org": "waitlisted",
        }
        mails = await api.wait_for_outbox(
            lambda mails: any("A seat is yours" in m["Subject"] for m in mails),
            "a promotion mail",
        )
        promoted = [m for m in mails if "A seat is yours" in m["Subject"]]
        assert [m["To"] for m in promoted] == ["p2@example.org"]


class TestAnswersOfArchivedFields:
    async def test_editing_answers_keeps_those_of_fields_no_longer_asked(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada)
        fields_url = f"/api/v1/events/{event['uuid']}/custom-fields/"
        job, why = [
            (
                await api.client.post(
                    fields_url,
                    json={"label": label, "field_type": "short_text"},
                    headers=bearer(ada),
                )
            ).json()["uuid"]
            for label in ("Job title", "Why")
        ]
        row = (
            await bulk(api, ada, event, people(1, answers={job: "Nurse", why: "Audit"}))
        )["results"][0]["uuid"]
        archived = await api.client.delete(f"{fields_url}{why}/", headers=bearer(ada))
        url = f"{base(event)}/{row}/"

        repeated = await api.client.patch(
            url, json={"answers": {job: "Surgeon", why: "Audit"}}, headers=bearer(ada)
        )
        left_out = await api.client.patch(
            url, json={"answers": {job: "Midwife"}}, headers=bearer(ada)
        )
        changed = await api.client.patch(
            url, json={"answers": {job: "Midwife", why: "Other"}}, headers=bearer(ada)
        )

        assert archived.status_code == 204, archived.text
        assert repeated.status_code == 200, repeated.text
        assert left_out.status_code == 200, left_out.text
        assert left_out.json()["answers"] == {job: "Midwife", why: "Audit"}
        assert field_errors(changed) == {f"answers.{why}": "field_archived"}
        shown = await api.client.get(url, headers=bearer(ada))
        assert shown.json()["answers"] == {job: "Midwife", why: "Audit"}


class TestWaitlist:
    async def test_promote_delete_and_order(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=1, waitlist_enabled=True)
        ids = [
            r["uuid"]
            for r in (await bulk(api, ada, event, people(1, 2, 3, 4)))["results"]
        ]

        line = await api.client.get(f"{base(event)}/waitlist/", headers=bearer(ada))
        full = await api.client.post(
            f"{base(event)}/waitlist/{ids[1]}/promote/", headers=bearer(ada)
        )
        forced = await api.client.post(
            f"{base(event)}/waitlist/{ids[1]}/promote/",
            json={"ignore_capacity": True},
            headers=bearer(ada),
        )
        removed = await api.client.delete(
            f"{base(event)}/waitlist/{ids[2]}/", headers=bearer(ada)
        )
        after = await api.client.get(f"{base(event)}/waitlist/", headers=bearer(ada))

        assert [(r["email"], r["waitlist_position"]) for r in line.json()] == [
            ("p2@example.org", 1),
            ("p3@example.org", 2),
            ("p4@example.org", 3),
        ]
        assert full.status_code == 409
        assert full.json()["code"] == "no_seat_left"
        assert forced.status_code == 200, forced.text
        assert forced.json()["status"] == "confirmed"
        assert removed.status_code == 204
        assert [(r["email"], r["waitlist_position"]) for r in after.json()] == [
            ("p4@example.org", 1)
        ]

    async def test_a_cancelled_event_seats_nobody(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=1, waitlist_enabled=True)
        ids = [
            r["uuid"] for r in (await bulk(api, ada, event, people(1, 2, 3)))["results"]
        ]
        cancelled = await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )
        assert cancelled.status_code == 200, cancelled.text
        freed = await api.client.post(
            f"{base(event)}/{ids[0]}/cancel/", headers=bearer(ada)
        )

        refusals = [
            await api.client.post(
                f"{base(event)}/waitlist/{ids[1]}/promote/",
                json={"ignore_capacity": True},
                headers=bearer(ada),
            ),
            await api.client.patch(
                f"{base(event)}/{ids[2]}/",
                json={"status": "confirmed"},
                headers=bearer(ada),
            ),
        ]

        assert freed.status_code == 200
        assert [r.status_code for r in refusals] == [409, 409]
        assert {r.json()["code"] for r in refusals} == {"event_cancelled"}
        assert await statuses(api, ada, event) == {
            "p1@example.org": "cancelled",
            "p2@example.org": "waitlisted",
            "p3@example.org": "waitlisted",
        }
        guest = await api.verified_user("p2@example.org")
        mine = await api.client.get("/api/v1/registrations/", headers=bearer(guest))
        assert [r["event"]["status"] for r in mine.json()["results"]] == ["cancelled"]

    @pytest.mark.parametrize(
        ("method", "path"),
        [("POST", "/waitlist/{uuid}/promote/"), ("DELETE", "/waitlist/{uuid}/")],
    )
    async def test_a_registration_not_waitlisted_is_a_conflict_problem(
        self, api: Api, method: str, path: str
    ) -> None:
        ada = await organizer(api)
        event = await an_event(api, ada, capacity=1, waitlist_enabled=True)
        confirmed = (await bulk(api, ada, event, people(1, 2)))["results"][0]["uuid"]

        response = await api.client.request(
            method, base(event) + path.format(uuid=confirmed), headers=bearer(ada)
        )

        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["code"] == "not_waitlisted"
        assert problem["type"] == "urn:platform:problem:not_waitlisted"
        assert problem["status"] == 409
        assert problem["registration_status"] == "confirmed"
        assert await statuses(api, ada, event) == {
            "p1@example.org": "confirmed",
            "p2@example.org": "waitlisted",
        }

    async def test_an_offer_is_accepted_by_the_registrant(self, api: Api) -> None:
        ada = await organizer(api)
        event = await an_event(
            api, ada, capacity=1, waitlist_enabled=True, waitlist_offer_hours=12
        )
        assert event["waitlist_offer_hours"] == 12
        ids = [
            r["uuid"] for r in (await bulk(api, ada, event, people(1, 2)))["results"]
        ]
        await api.client.post(f"{base(event)}/{ids[0]}/cancel/", headers=bearer(ada))
        await api.wait_for_outbox(
            lambda mails: any(
                m["Subject"].startswith("A seat is offered") for m in mails
            ),
            "an offer mail",
        )
        registrant = await api.verified_user("p2@example.org")
        stranger = await api.verified_user("p9@example.org")

        offered = await api.client.get(f"{base(event)}/{ids[1]}/", headers=bearer(ada))
        refused = await api.client.post(
            f"/api/v1/registrations/{ids[1]}/accept-offer/", headers=bearer(stranger)
        )
        accepted = await api.client.post(
            f"/api/v1/registrations/{ids[1]}/accept-offer/", headers=bearer(registrant)
        )

        assert offered.json()["status"] == "waitlisted"
        assert offered.json()["offer_expires_at"] is not None
        assert refused.status_code == 404
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "confirmed"
        offers = [m for m in api.mails() if m["To"] == "p2@example.org"]
        texts = [m.get_body(preferencelist=("plain",)) for m in offers]
        assert any(
            f"https://app.test/registrations/{ids[1]}" in t.get_content()
            for t in texts
            if t is not None
        )

    async def test_an_offer_that_ran_out_passes_on_by_the_command(
        self, api: Api, tmp_path: Path
    ) -> None:
        ada = await organizer(api)
        event = await an_event(
            api, ada, capacity=1, waitlist_enabled=True, waitlist_offer_hours=1
        )
        ids = [
            r["uuid"] for r in (await bulk(api, ada, event, people(1, 2, 3)))["results"]
        ]
        await api.client.post(f"{base(event)}/{ids[0]}/cancel/", headers=bearer(ada))
        async with api.container.uow_factory()() as uow:
            offered = await uow.registrations.get(UUID(ids[1]))
            assert offered is not None
            assert offered.offer_expires_at is not None
            offered.offer_expires_at = datetime.now(UTC) - timedelta(minutes=1)
            await uow.registrations.update(offered)
            await uow.commit()
        env = settings_env(tmp_path, PLATFORM_LOG_LEVEL="warning")

        code, output = await asyncio.to_thread(
            invoke, env, "registrations", "expire-offers"
        )
        again, second = await asyncio.to_thread(
            invoke, env, "registrations", "expire-offers"
        )

        assert (code, output.strip()) == (0, "expire-offers: examined 1, changed 1")
        assert (again, second.strip()) == (0, "expire-offers: examined 0, changed 0")
        assert await statuses(api, ada, event) == {
            "p1@example.org": "cancelled",
            "p2@example.org": "cancelled",
            "p3@example.org": "waitlisted",
        }
        third = await api.client.get(f"{base(event)}/{ids[2]}/", headers=bearer(ada))
        assert third.json()["offer_expires_at"] is not None

    @pytest.mark.parametrize("hours", [0, 169])
    async def test_offer_hours_out_of_range_are_refused(
        self, api: Api, hours: int
    ) -> None:
        ada = await organizer(api)
        event = await create(api, ada)

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"waitlist_offer_hours": hours},
            headers=bearer(ada),
        )

        assert field_errors(response) == {"waitlist_offer_hours": "out_of_range"}


class TestOpenApi:
    async def test_documents_every_management_route(self, api: Api) -> None:
        schema = (await api.client.get("/schema/openapi.json")).json()

        paths = schema["paths"]
        base = "/api/v1/events/{event_uuid}/registrations/"
        assert set(paths[base]) == {"get"}
        assert set(paths[f"{base}export.csv"]) == {"get"}
        assert (
            "text/csv"
            in paths[f"{base}export.csv"]["get"]["responses"]["200"]["content"]
        )
        assert "without payment" in paths[f"{base}bulk/"]["post"]["summary"]
        assert set(paths[f"{base}waitlist/"]) == {"get"}
        assert set(paths[f"{base}waitlist/{{uuid}}/promote/"]) == {"post"}
        assert set(paths[f"{base}waitlist/{{uuid}}/"]) == {"delete"}
        assert set(paths[f"{base}{{uuid}}/"]) == {"get", "patch"}
        assert set(paths[f"{base}{{uuid}}/cancel/"]) == {"post"}
        assert set(paths["/api/v1/registrations/{uuid}/accept-offer/"]) == {"post"}
        assert "409" in paths[f"{base}{{uuid}}/"]["patch"]["responses"]
