"""An organizer's events and sessions over HTTP, on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.http.conftest import Api, bearer

PROBLEM = "application/problem+json"
START = (datetime.now(UTC) + timedelta(days=30)).replace(
    hour=8, minute=0, second=0, microsecond=0
)


def at(hours: float, zone_offset: str = "+00:00") -> str:
    """An ISO instant `hours` after START, written with an offset."""
    moment = START + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone_offset


def event_body(**fields: Any) -> dict[str, Any]:
    """A valid online event of two hours."""
    return {
        "title": "Cardiology update",
        "timezone": "Europe/Paris",
        "starts_at": at(0),
        "ends_at": at(2),
        **fields,
    }


def complete_body(**fields: Any) -> dict[str, Any]:
    """An event complete enough to publish."""
    return event_body(**{"description": "Two hours of talks.", **fields})


async def organizer(
    api: Api, email: str = "ada@example.org", plan: str = "organizer"
) -> dict[str, str]:
    """A verified account upgraded to an organizer plan with local payments."""
    tokens = await api.verified_user(email)
    response = await api.client.post(
        "/api/v1/subscription/",
        json={"plan": plan, "interval": "month"},
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    return tokens


async def create(api: Api, tokens: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await api.client.post(
        "/api/v1/events/", json=event_body(**fields), headers=bearer(tokens)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def publish(api: Api, tokens: dict[str, str], uuid: str) -> dict[str, Any]:
    response = await api.client.post(
        f"/api/v1/events/{uuid}/publish/",
        json={"published": True},
        headers=bearer(tokens),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_session(
    api: Api, tokens: dict[str, str], event_uuid: str, **fields: Any
) -> dict[str, Any]:
    body = {"title": "Morning", "starts_at": at(0), "ends_at": at(1), **fields}
    response = await api.client.post(
        f"/api/v1/events/{event_uuid}/sessions/", json=body, headers=bearer(tokens)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def field_errors(response: Any) -> dict[str, str]:
    """The problem document's field errors, field to code."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return {e["field"]: e["code"] for e in response.json()["errors"]}


async def my_event_count(api: Api, tokens: dict[str, str]) -> int:
    response = await api.client.get("/api/v1/events/", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


class TestCreating:
    async def test_an_event_is_created_as_a_draft_with_a_slug(self, api: Api) -> None:
        tokens = await organizer(api)

        body = await create(
            api,
            tokens,
            starts_at=at(0, "+02:00"),
            ends_at=at(2, "+02:00"),
            price=2500,
            currency="EUR",
            cpd_credits="1.50",
            capacity=40,
        )

        assert body["status"] == "draft"
        assert body["is_published"] is False
        assert body["slug"] == "cardiology-update"
        assert body["featured_image"] is None
        assert body["price"] == 2500
        assert body["cpd_credits"] == "1.50"
        assert body["capacity"] == 40
        assert body["starts_at"] == (START - timedelta(hours=2)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        local = datetime.fromisoformat(body["starts_at_local"])
        assert local == START - timedelta(hours=2)
        assert local.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
        shown = await api.client.get(
            f"/api/v1/events/{body['uuid']}/", headers=bearer(tokens)
        )
        assert shown.json() == body

    async def test_a_second_event_with_the_same_title_gets_its_own_slug(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)

        first = await create(api, tokens)
        second = await create(api, tokens)

        assert (first["slug"], second["slug"]) == (
            "cardiology-update",
            "cardiology-update-2",
        )

    async def test_a_number_of_credits_is_accepted_too(self, api: Api) -> None:
        tokens = await organizer(api)

        body = await create(api, tokens, cpd_credits=2.5)

        assert body["cpd_credits"] == "2.50"

    async def test_a_naive_time_is_refused_naming_the_field(self, api: Api) -> None:
        tokens = await organizer(api)

        response = await api.client.post(
            "/api/v1/events/",
            json=event_body(starts_at=at(0).removesuffix("+00:00")),
            headers=bearer(tokens),
        )

        assert field_errors(response) == {"starts_at": "invalid"}
        assert "timezone" in response.json()["errors"][0]["message"]
        assert await my_event_count(api, tokens) == 0

    async def test_an_unknown_field_is_refused(self, api: Api) -> None:
        tokens = await organizer(api)

        response = await api.client.post(
            "/api/v1/events/", json=event_body(colour="red"), headers=bearer(tokens)
        )

        assert field_errors(response) == {"colour": "unknown_field"}

    async def test_an_attendee_lacks_the_organizer_capability(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.post(
            "/api/v1/events/", json=event_body(), headers=bearer(tokens)
        )

        assert response.status_code == 403
        assert response.json()["code"] == "capability_missing"
        assert response.json()["capability"] == "organizer"

    async def test_at_the_plans_limit_creation_is_refused_with_limit_and_period_end(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)
        subscription = (
            await api.client.get("/api/v1/subscription/", headers=bearer(tokens))
        ).json()
        limit = subscription["usage"]["events_per_period"]["limit"]
        for _ in range(limit):
            await create(api, tokens)

        response = await api.client.post(
            "/api/v1/events/", json=event_body(), headers=bearer(tokens)
        )

        assert response.status_code == 403
        problem = response.json()
        assert problem["code"] == "quota_exceeded"
        assert problem["limit"] == limit
        assert problem["limit_name"] == "events_per_period"
        assert datetime.fromisoformat(problem["period_end"]) == datetime.fromisoformat(
            subscription["current_period_end"]
        )
        assert await my_event_count(api, tokens) == limit

    async def test_every_endpoint_needs_a_token(self, api: Api) -> None:
        response = await api.client.post("/api/v1/events/", json=event_body())

        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


class TestValidation:
    @pytest.mark.parametrize(
        ("fields", "field", "code"),
        [
            ({"ends_at": at(-1)}, "ends_at", "before_start"),
            ({"ends_at": at(0)}, "ends_at", "before_start"),
            ({"timezone": "Mars/Olympus_Mons"}, "timezone", "invalid"),
            ({"timezone": "+02:00"}, "timezone", "invalid"),
            ({"registration_closes_at": at(3)}, "registration_closes_at", "after_end"),
            ({"price": 1000}, "currency", "required"),
            ({"price": 1000, "currency": "eur"}, "currency", "invalid"),
            ({"price": -1}, "price", "out_of_range"),
            ({"capacity": 0}, "capacity", "out_of_range"),
            ({"cpd_credits": "NaN"}, "cpd_credits", "invalid"),
            ({"cpd_credits": "1.555"}, "cpd_credits", "invalid"),
            ({"min_attendance_percent": 101}, "min_attendance_percent", "out_of_range"),
            ({"title": " "}, "title", "required"),
            ({"title": "Bad\x00title"}, "title", "invalid"),
            ({"description": "Nul\x00here"}, "description", "invalid"),
            ({"format": "carrier_pigeon"}, "format", "invalid"),
            ({"visibility": "secret"}, "visibility", "invalid"),
        ],
    )
    async def test_an_invalid_event_is_refused_and_nothing_is_created(
        self, api: Api, fields: dict[str, Any], field: str, code: str
    ) -> None:
        tokens = await organizer(api)

        response = await api.client.post(
            "/api/v1/events/", json=event_body(**fields), headers=bearer(tokens)
        )

        assert field_errors(response) == {field: code}
        assert await my_event_count(api, tokens) == 0

    async def test_registration_may_close_exactly_at_the_end(self, api: Api) -> None:
        tokens = await organizer(api)

        body = await create(api, tokens, registration_closes_at=at(2))

        assert datetime.fromisoformat(body["registration_closes_at"]) == (
            START + timedelta(hours=2)
        )


class TestListing:
    async def test_my_events_are_filtered_and_paginated(self, api: Api) -> None:
        tokens = await organizer(api)
        early = await create(api, tokens, title="Early bird")
        late = await create(
            api, tokens, title="Late show", starts_at=at(48), ends_at=at(50)
        )
        middle = await create(api, tokens, title="Middle", description="Talks.")
        await publish(api, tokens, middle["uuid"])

        async def listed(**query: Any) -> dict[str, Any]:
            response = await api.client.get(
                "/api/v1/events/", params=query, headers=bearer(tokens)
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        everything = await listed()
        assert everything["count"] == 3
        assert [e["title"] for e in everything["results"]][-1] == "Late show"
        assert (await listed(status="published"))["count"] == 1
        assert [e["uuid"] for e in (await listed(search="BIRD"))["results"]] == [
            early["uuid"]
        ]
        after = await listed(starts_after=at(24, "Z"))
        assert [e["uuid"] for e in after["results"]] == [late["uuid"]]
        assert (await listed(starts_before=at(1, "+00:00")))["count"] == 2
        second_page = await listed(page=2, page_size=2)
        assert (
            second_page["count"],
            second_page["page"],
            second_page["page_size"],
        ) == (
            3,
            2,
            2,
        )
        assert [e["uuid"] for e in second_page["results"]] == [late["uuid"]]

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"starts_after": "2031-05-17T09:00:00"}, "starts_after"),
            ({"starts_before": "next tuesday"}, "starts_before"),
            ({"status": "archived"}, "status"),
            ({"page": 0}, "page"),
            ({"page_size": 101}, "page_size"),
            ({"search": "a\x00b"}, "search"),
        ],
    )
    async def test_a_bad_query_parameter_is_named(
        self, api: Api, query: dict[str, Any], field: str
    ) -> None:
        tokens = await organizer(api)

        response = await api.client.get(
            "/api/v1/events/", params=query, headers=bearer(tokens)
        )

        assert field in field_errors(response)


class TestUpdating:
    async def test_any_subset_of_fields_changes_and_the_rest_stays(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens, capacity=10)

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={
                "title": "Renamed",
                "capacity": None,
                "price": 900,
                "currency": "GBP",
            },
            headers=bearer(tokens),
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["title"], body["capacity"], body["price"], body["currency"]) == (
            "Renamed",
            None,
            900,
            "GBP",
        )
        assert body["slug"] == event["slug"]
        assert body["starts_at"] == event["starts_at"]
        assert body["updated_at"] is not None

    @pytest.mark.parametrize(
        ("fields", "field", "code"),
        [
            ({"slug": "mine"}, "slug", "read_only"),
            ({"status": "published"}, "status", "read_only"),
            ({"uuid": "x"}, "uuid", "read_only"),
            ({"colour": "red"}, "colour", "unknown_field"),
            ({"ends_at": at(-5)}, "ends_at", "before_start"),
            ({"title": None}, "title", "invalid"),
        ],
    )
    async def test_a_refused_change_changes_nothing(
        self, api: Api, fields: dict[str, Any], field: str, code: str
    ) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/", json=fields, headers=bearer(tokens)
        )

        assert field_errors(response) == {field: code}
        shown = await api.client.get(
            f"/api/v1/events/{event['uuid']}/", headers=bearer(tokens)
        )
        assert shown.json() == event

    async def test_the_event_cannot_shrink_around_its_sessions(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)
        await add_session(api, tokens, event["uuid"], starts_at=at(1), ends_at=at(2))

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"ends_at": at(1, "+00:00")},
            headers=bearer(tokens),
        )

        assert field_errors(response) == {"ends_at": "sessions_outside"}

    async def test_a_later_start_names_the_start_as_the_field_at_fault(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)
        await add_session(api, tokens, event["uuid"], starts_at=at(1), ends_at=at(2))

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"starts_at": at(1.5)},
            headers=bearer(tokens),
        )

        assert field_errors(response) == {"starts_at": "sessions_outside"}


class TestPublishing:
    @pytest.mark.parametrize(
        ("fields", "missing"),
        [
            ({"format": "in_person"}, ["description", "venue", "address"]),
            (
                {
                    "format": "hybrid",
                    "description": "\u200b\u2060",
                    "venue": "\u00a0\u200d",
                    "address": "1 Main Street",
                },
                ["description", "venue"],
            ),
        ],
        ids=["left_out", "invisible"],
    )
    async def test_publishing_says_what_is_missing(
        self, api: Api, fields: dict[str, str], missing: list[str]
    ) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens, **fields)

        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/publish/",
            json={"published": True},
            headers=bearer(tokens),
        )

        assert field_errors(response) == dict.fromkeys(missing, "required")

    async def test_a_complete_event_is_published_and_taken_back(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens, description="Talks.")

        published = await publish(api, tokens, event["uuid"])
        unpublished = await api.client.post(
            f"/api/v1/events/{event['uuid']}/publish/",
            json={"published": False},
            headers=bearer(tokens),
        )

        assert (published["status"], published["is_published"]) == ("published", True)
        assert unpublished.status_code == 200
        assert unpublished.json()["status"] == "draft"

    async def test_the_published_flag_is_required(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)

        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/publish/", json={}, headers=bearer(tokens)
        )

        assert field_errors(response) == {"published": "required"}

    async def test_a_cancelled_event_is_cancelled_and_cannot_be_published(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens, description="Talks.")

        cancelled = await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(tokens)
        )
        republished = await api.client.post(
            f"/api/v1/events/{event['uuid']}/publish/",
            json={"published": True},
            headers=bearer(tokens),
        )

        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        assert field_errors(republished) == {"status": "cancelled"}


class TestDeleting:
    async def test_an_event_without_registrations_is_deleted(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)
        await add_session(api, tokens, event["uuid"])

        response = await api.client.delete(
            f"/api/v1/events/{event['uuid']}/", headers=bearer(tokens)
        )

        assert response.status_code == 204
        gone = await api.client.get(
            f"/api/v1/events/{event['uuid']}/", headers=bearer(tokens)
        )
        assert gone.status_code == 404


class TestSessions:
    async def test_sessions_are_listed_by_start_and_changed(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)
        afternoon = await add_session(
            api,
            tokens,
            event["uuid"],
            title="Afternoon",
            starts_at=at(1),
            ends_at=at(2),
        )
        morning = await add_session(api, tokens, event["uuid"], title="Morning")
        base = f"/api/v1/events/{event['uuid']}/sessions/"

        listed = await api.client.get(base, headers=bearer(tokens))
        changed = await api.client.patch(
            f"{base}{afternoon['uuid']}/",
            json={"title": "Late afternoon"},
            headers=bearer(tokens),
        )
        shown = await api.client.get(
            f"{base}{afternoon['uuid']}/", headers=bearer(tokens)
        )
        deleted = await api.client.delete(
            f"{base}{morning['uuid']}/", headers=bearer(tokens)
        )
        after = await api.client.get(base, headers=bearer(tokens))

        assert [s["title"] for s in listed.json()] == ["Morning", "Afternoon"]
        assert morning["meeting"] is None
        assert set(morning) == {"uuid", "title", "starts_at", "ends_at", "meeting"}
        assert changed.status_code == 200
        assert shown.json()["title"] == "Late afternoon"
        assert deleted.status_code == 204
        assert [s["uuid"] for s in after.json()] == [afternoon["uuid"]]

    @pytest.mark.parametrize(
        ("fields", "field", "code"),
        [
            ({"starts_at": at(-1)}, "starts_at", "outside_event"),
            ({"ends_at": at(3)}, "starts_at", "outside_event"),
            ({"ends_at": at(0)}, "ends_at", "before_start"),
            ({"title": ""}, "title", "required"),
            ({"starts_at": "2031-01-01T10:00:00"}, "starts_at", "invalid"),
        ],
    )
    async def test_an_invalid_session_is_refused(
        self, api: Api, fields: dict[str, Any], field: str, code: str
    ) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)

        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/sessions/",
            json={"title": "Talk", "starts_at": at(0), "ends_at": at(1), **fields},
            headers=bearer(tokens),
        )

        assert field_errors(response) == {field: code}

    async def test_a_sessions_meeting_is_read_only(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await create(api, tokens)
        session = await add_session(api, tokens, event["uuid"])

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/sessions/{session['uuid']}/",
            json={"meeting": {"url": "https://evil.test"}},
            headers=bearer(tokens),
        )

        assert field_errors(response) == {"meeting": "read_only"}


ROUTES = [
    ("GET", "/api/v1/events/{event}/", None),
    ("PATCH", "/api/v1/events/{event}/", {"title": "Mine now"}),
    ("DELETE", "/api/v1/events/{event}/", None),
    ("POST", "/api/v1/events/{event}/publish/", {"published": True}),
    ("POST", "/api/v1/events/{event}/cancel/", None),
    ("GET", "/api/v1/events/{event}/sessions/", None),
    (
        "POST",
        "/api/v1/events/{event}/sessions/",
        {"title": "Mine", "starts_at": at(0), "ends_at": at(1)},
    ),
    ("GET", "/api/v1/events/{event}/sessions/{session}/", None),
    ("PATCH", "/api/v1/events/{event}/sessions/{session}/", {"title": "Mine"}),
    ("DELETE", "/api/v1/events/{event}/sessions/{session}/", None),
]


class TestTenantIsolation:
    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    async def test_other_organizers_event_is_not_found(
        self, api: Api, method: str, path: str, body: dict[str, Any] | None
    ) -> None:
        ada = await organizer(api, "ada@example.org")
        event = await create(api, ada, description="Talks.")
        session = await add_session(api, ada, event["uuid"])
        grace = await organizer(api, "grace@example.org")

        response = await api.client.request(
            method,
            path.format(event=event["uuid"], session=session["uuid"]),
            json=body,
            headers=bearer(grace),
        )

        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
        unchanged = await api.client.get(
            f"/api/v1/events/{event['uuid']}/", headers=bearer(ada)
        )
        assert unchanged.json() == event
        sessions = await api.client.get(
            f"/api/v1/events/{event['uuid']}/sessions/", headers=bearer(ada)
        )
        assert sessions.json() == [session]

    async def test_other_organizers_events_are_not_listed(self, api: Api) -> None:
        ada = await organizer(api, "ada@example.org")
        await create(api, ada)
        grace = await organizer(api, "grace@example.org")

        assert await my_event_count(api, grace) == 0

    async def test_a_session_of_another_event_is_not_found(self, api: Api) -> None:
        ada = await organizer(api)
        first = await create(api, ada)
        second = await create(api, ada)
        session = await add_session(api, ada, first["uuid"])

        response = await api.client.get(
            f"/api/v1/events/{second['uuid']}/sessions/{session['uuid']}/",
            headers=bearer(ada),
        )

        assert response.status_code == 404


class TestDowngradeWithEvents:
    async def test_an_organizer_with_a_running_event_cannot_downgrade(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await create(api, ada)

        refused = await api.client.post(
            "/api/v1/users/me/downgrade/", headers=bearer(ada)
        )
        cancelled = await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )
        allowed = await api.client.post(
            "/api/v1/users/me/downgrade/", headers=bearer(ada)
        )

        assert refused.status_code == 409, refused.text
        assert "1" in refused.json()["detail"]
        assert cancelled.status_code == 200, cancelled.text
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["plan"] == "attendee"


def field_codes(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


class TestEdgesOfTimeAndState:
    @pytest.mark.parametrize(
        ("starts_at", "ends_at"),
        [
            ("9999-12-31T20:00:00-01:00", "9999-12-31T21:00:00-01:00"),
            ("9999-12-31T20:00:00+00:00", "9999-12-31T23:00:00+00:00"),
            ("0001-01-01T00:30:00+01:00", "0001-01-01T03:00:00+01:00"),
            ("1969-12-31T10:00:00+00:00", "1969-12-31T12:00:00+00:00"),
        ],
    )
    async def test_instants_outside_1970_to_2999_are_refused_and_nothing_is_used(
        self, api: Api, starts_at: str, ends_at: str
    ) -> None:
        ada = await organizer(api)

        response = await api.client.post(
            "/api/v1/events/",
            json=event_body(
                timezone="Pacific/Kiritimati", starts_at=starts_at, ends_at=ends_at
            ),
            headers=bearer(ada),
        )

        assert ("starts_at", "out_of_range") in field_codes(response)
        usage = (
            await api.client.get("/api/v1/subscription/", headers=bearer(ada))
        ).json()["usage"]["events_per_period"]
        assert usage["used"] == 0
        listed = await api.client.get("/api/v1/events/", headers=bearer(ada))
        assert listed.status_code == 200
        assert listed.json()["count"] == 0

    async def test_a_far_date_filter_is_a_400(self, api: Api) -> None:
        response = await api.client.get(
            "/api/v1/public/events/",
            params={"starts_after": "9999-12-31T23:00:00-05:00"},
        )

        assert ("starts_after", "out_of_range") in field_codes(response)

    @pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules"])
    async def test_zone_names_that_are_no_place_are_refused(
        self, api: Api, zone: str
    ) -> None:
        ada = await organizer(api)

        response = await api.client.post(
            "/api/v1/events/", json=event_body(timezone=zone), headers=bearer(ada)
        )

        assert ("timezone", "invalid") in field_codes(response)

    @pytest.mark.parametrize("path", ["/api/v1/public/events/", "/api/v1/events/"])
    async def test_a_huge_page_number_is_a_400(self, api: Api, path: str) -> None:
        ada = await organizer(api)

        response = await api.client.get(
            path, params={"page": str(10**30)}, headers=bearer(ada)
        )

        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_a_cancelled_draft_never_becomes_public(self, api: Api) -> None:
        ada = await organizer(api)
        event = await create(api, ada, **complete_body())

        cancelled = await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )

        assert cancelled.status_code == 200, cancelled.text
        for path in ("", "calendar.ics"):
            for identifier in (event["uuid"], event["slug"]):
                response = await api.client.get(
                    f"/api/v1/public/events/{identifier}/{path}"
                )
                assert response.status_code == 404, (path, response.text)

    async def test_an_unpublished_then_cancelled_event_is_not_public(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await create(api, ada, **complete_body())
        await publish(api, ada, event["uuid"])
        await api.client.post(
            f"/api/v1/events/{event['uuid']}/publish/",
            json={"published": False},
            headers=bearer(ada),
        )
        await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )

        response = await api.client.get(f"/api/v1/public/events/{event['uuid']}/")

        assert response.status_code == 404

    async def test_a_published_and_cancelled_event_stays_readable(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await create(api, ada, **complete_body())
        await publish(api, ada, event["uuid"])
        await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )

        response = await api.client.get(f"/api/v1/public/events/{event['uuid']}/")
        listed = await api.client.get("/api/v1/public/events/")

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert listed.json()["count"] == 0

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"description": ""}, "description"),
            ({"format": "in_person"}, "venue"),
        ],
    )
    async def test_a_published_event_cannot_lose_what_publishing_needs(
        self, api: Api, change: dict[str, Any], field: str
    ) -> None:
        ada = await organizer(api)
        event = await create(api, ada, **complete_body())
        await publish(api, ada, event["uuid"])

        response = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/", json=change, headers=bearer(ada)
        )

        assert (field, "required") in field_codes(response)
        shown = await api.client.get(f"/api/v1/public/events/{event['uuid']}/")
        assert shown.json()["description"] == "Two hours of talks."
        assert shown.json()["format"] == "online"

    async def test_a_cancelled_event_cannot_be_edited_or_given_sessions(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await create(api, ada)
        await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )

        edited = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"title": "Back on"},
            headers=bearer(ada),
        )
        session = await api.client.post(
            f"/api/v1/events/{event['uuid']}/sessions/",
            json={"title": "Morning", "starts_at": at(0), "ends_at": at(1)},
            headers=bearer(ada),
        )

        assert edited.status_code == 409, edited.text
        assert edited.json()["code"] == "event_cancelled"
        assert session.status_code == 409, session.text
