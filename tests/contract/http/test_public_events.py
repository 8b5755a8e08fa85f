"""The public catalogue, an event's public page and its calendar file, on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import icalendar
import pytest
from sqlalchemy import event as sa_event

from platform_core.events.model import Event, EventStatus
from platform_core.identity.model import Principal
from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import (
    START,
    add_session,
    at,
    complete_body,
    create,
    organizer,
    publish,
)

LIST = "/api/v1/public/events/"


async def listed_event(
    api: Api, tokens: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """A published public event."""
    created = await create(api, tokens, **complete_body(**fields))
    return await publish(api, tokens, created["uuid"])


async def public_list(api: Api, **query: Any) -> dict[str, Any]:
    response = await api.client.get(LIST, params=query)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["results"]]


async def principal_of(api: Api, tokens: dict[str, str]) -> Principal:
    return await api.container.platform().identity.authenticate(tokens["access"])


class TestTheList:
    async def test_only_published_public_upcoming_events_are_listed(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        await listed_event(api, ada, title="Listed")
        await create(api, ada, **complete_body(title="Draft"))
        await listed_event(api, ada, title="Unlisted", visibility="unlisted")
        cancelled = await listed_event(api, ada, title="Cancelled")
        await api.client.post(
            f"/api/v1/events/{cancelled['uuid']}/cancel/", headers=bearer(ada)
        )

        body = await public_list(api)

        assert titles(body) == ["Listed"]
        assert body["count"] == 1
        card = body["results"][0]
        assert set(card) == {
            "uuid",
            "slug",
            "title",
            "format",
            "timezone",
            "starts_at",
            "ends_at",
            "starts_at_local",
            "ends_at_local",
            "price",
            "currency",
            "featured_image",
            "organizer",
        }
        me = (await api.client.get("/api/v1/users/me/", headers=bearer(ada))).json()
        assert card["organizer"] == {"uuid": me["uuid"], "name": "Ada Lovelace"}

    async def test_past_events_are_listed_only_when_asked(self, api: Api) -> None:
        ada = await organizer(api)
        past = await listed_event(api, ada, title="Past")
        async with api.container.uow_factory()() as uow:
            event = await uow.events.get(UUID(past["uuid"]))
            assert event is not None
            event.starts_at -= timedelta(days=60)
            event.ends_at -= timedelta(days=60)
            await uow.events.update(event)
            await uow.commit()

        assert titles(await public_list(api)) == []
        assert titles(await public_list(api, include_past="true")) == ["Past"]

    async def test_filters_ordering_and_pagination(self, api: Api) -> None:
        ada = await organizer(api, "ada@example.org")
        grace = await organizer(api, "grace@example.org")
        await listed_event(
            api, ada, title="Free online", starts_at=at(0), ends_at=at(1)
        )
        await listed_event(
            api,
            ada,
            title="Paid hybrid",
            format="hybrid",
            venue="Hall",
            address="1 Road",
            price=5000,
            currency="EUR",
            starts_at=at(24),
            ends_at=at(25),
        )
        await listed_event(
            api,
            grace,
            title="Cheap surgery",
            description="Sutures and knots.",
            price=1000,
            currency="EUR",
            starts_at=at(48),
            ends_at=at(49),
        )
        grace_uuid = (
            await api.client.get("/api/v1/users/me/", headers=bearer(grace))
        ).json()["uuid"]

        assert titles(await public_list(api)) == [
            "Free online",
            "Paid hybrid",
            "Cheap surgery",
        ]
        assert titles(await public_list(api, organizer=grace_uuid)) == ["Cheap surgery"]
        assert titles(await public_list(api, format="hybrid")) == ["Paid hybrid"]
        assert titles(await public_list(api, price="free")) == ["Free online"]
        assert titles(await public_list(api, price="paid", ordering="-price")) == [
            "Paid hybrid",
            "Cheap surgery",
        ]
        assert titles(await public_list(api, search="SUTURES")) == ["Cheap surgery"]
        assert titles(await public_list(api, ordering="title")) == [
            "Cheap surgery",
            "Free online",
            "Paid hybrid",
        ]
        assert titles(await public_list(api, ordering="-starts_at"))[0] == (
            "Cheap surgery"
        )
        assert titles(
            await public_list(api, starts_after=at(12, "Z"), starts_before=at(36, "Z"))
        ) == ["Paid hybrid"]
        page = await public_list(api, page=2, page_size=2)
        assert (page["count"], page["page"], page["page_size"]) == (3, 2, 2)
        assert titles(page) == ["Cheap surgery"]

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"organizer": "nobody"}, "organizer"),
            ({"format": "telepathy"}, "format"),
            ({"price": "cheap"}, "price"),
            ({"ordering": "popularity"}, "ordering"),
            ({"starts_after": "2031-05-17T09:00:00"}, "starts_after"),
            ({"page_size": 0}, "page_size"),
        ],
    )
    async def test_a_bad_query_parameter_is_named(
        self, api: Api, query: dict[str, Any], field: str
    ) -> None:
        response = await api.client.get(LIST, params=query)

        assert response.status_code == 400
        assert field in {e["field"] for e in response.json()["errors"]}

    async def test_the_statement_count_does_not_grow_with_the_page_size(
        self, api: Api
    ) -> None:
        ada = await organizer(api, "ada@example.org")
        grace = await organizer(api, "grace@example.org")
        owners = [await principal_of(api, ada), await principal_of(api, grace)]
        async with api.container.uow_factory()() as uow:
            for n in range(60):
                moment = START + timedelta(hours=n)
                await uow.events.add(
                    Event(
                        organizer_id=owners[n % 2].user_id,
                        title=f"Event {n:02d}",
                        slug=f"event-{n:02d}",
                        timezone="Europe/Paris",
                        starts_at=moment,
                        ends_at=moment + timedelta(hours=1),
                        created_at=START,
                        description="Talks.",
                        status=EventStatus.PUBLISHED,
                    )
                )
            await uow.commit()

        counts = {}
        for size in (1, 10, 50):
            with counted_statements(api) as statements:
                body = await public_list(api, page_size=size)
            assert len(body["results"]) == size
            assert {c["organizer"]["name"] for c in body["results"]} <= {"Ada Lovelace"}
            counts[size] = len(statements)
            selects = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
            assert len(selects) == 3, selects

        assert counts[1] == counts[10] == counts[50], counts


@contextmanager
def counted_statements(api: Api) -> Iterator[list[str]]:
    """Every SQL statement the container's engine runs inside the block."""
    engine = api.container.engine().sync_engine
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)


class TestTheDetail:
    async def test_an_event_is_found_by_uuid_and_by_slug(self, api: Api) -> None:
        ada = await organizer(api)
        event = await listed_event(api, ada, capacity=30)
        await add_session(
            api, ada, event["uuid"], title="Second", starts_at=at(1), ends_at=at(2)
        )
        await add_session(api, ada, event["uuid"], title="First")

        by_uuid = await api.client.get(f"{LIST}{event['uuid']}/")
        by_slug = await api.client.get(f"{LIST}{event['slug'].upper()}/")

        assert by_uuid.status_code == 200, by_uuid.text
        assert by_slug.json() == by_uuid.json()
        body = by_uuid.json()
        assert body["status"] == "published"
        assert body["seats_left"] == 30
        assert body["registration_open"] is True
        assert body["custom_fields"] == []
        assert body["organizer"]["name"] == "Ada Lovelace"
        assert [s["title"] for s in body["sessions"]] == ["First", "Second"]
        assert "meeting" not in body["sessions"][0]

    async def test_a_draft_is_not_found(self, api: Api) -> None:
        ada = await organizer(api)
        draft = await create(api, ada, **complete_body())

        for identifier in (draft["uuid"], draft["slug"]):
            response = await api.client.get(f"{LIST}{identifier}/")
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"

    @pytest.mark.parametrize(
        "identifier", ["no-such-event", "00000000-0000-4000-8000-000000000000", "a%00b"]
    )
    async def test_an_unknown_identifier_is_not_found(
        self, api: Api, identifier: str
    ) -> None:
        response = await api.client.get(f"{LIST}{identifier}/")

        assert response.status_code == 404

    async def test_an_unlisted_event_is_readable_by_its_identifier(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await listed_event(api, ada, visibility="unlisted")

        response = await api.client.get(f"{LIST}{event['slug']}/")

        assert response.status_code == 200
        assert response.json()["visibility"] == "unlisted"

    async def test_a_cancelled_event_shows_as_cancelled(self, api: Api) -> None:
        ada = await organizer(api)
        event = await listed_event(api, ada)
        await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(ada)
        )

        response = await api.client.get(f"{LIST}{event['uuid']}/")

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        assert response.json()["registration_open"] is False


class TestTheCalendarFile:
    async def test_one_entry_per_session_in_the_events_time_zone(
        self, api: Api
    ) -> None:
        ada = await organizer(api)
        event = await listed_event(
            api,
            ada,
            title="Cardiology, day one",
            timezone="America/New_York",
            format="in_person",
            venue="Hall A",
            address="1 Main St",
        )
        first = await add_session(api, ada, event["uuid"], title="Opening")
        await add_session(
            api, ada, event["uuid"], title="Closing", starts_at=at(1), ends_at=at(2)
        )

        response = await api.client.get(f"{LIST}{event['slug']}/calendar.ics")
        again = await api.client.get(f"{LIST}{event['uuid']}/calendar.ics")

        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        assert event["slug"] in response.headers["content-disposition"]
        calendar = icalendar.Calendar.from_ical(response.content)
        entries = calendar.walk("VEVENT")
        assert [str(e["SUMMARY"]) for e in entries] == [
            "Cardiology, day one: Opening",
            "Cardiology, day one: Closing",
        ]
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
        opening = entries[0]
        assert opening["DTSTART"].params["TZID"] == "America/New_York"
        assert opening.decoded("DTSTART") == START
        assert str(opening.decoded("DTSTART").tzinfo) == "America/New_York"
        assert str(opening["UID"]).startswith(first["uuid"])
        assert str(opening["LOCATION"]) == "Hall A, 1 Main St"
        assert str(opening["DESCRIPTION"]) == "Two hours of talks."
        assert "DTSTAMP" in opening
        assert str(opening["URL"]) == f"https://app.test/events/{event['slug']}"
        uids = [str(e["UID"]) for e in entries]
        again_uids = [
            str(e["UID"])
            for e in icalendar.Calendar.from_ical(again.content).walk("VEVENT")
        ]
        assert uids == again_uids

    async def test_an_event_without_sessions_is_one_entry(self, api: Api) -> None:
        ada = await organizer(api)
        event = await listed_event(api, ada)

        response = await api.client.get(f"{LIST}{event['uuid']}/calendar.ics")

        entries = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        assert len(entries) == 1
        assert entries[0].decoded("DTEND") - entries[0].decoded("DTSTART") == (
            timedelta(hours=2)
        )
        assert str(entries[0]["LOCATION"]) == "Online"

    async def test_a_drafts_calendar_is_not_found(self, api: Api) -> None:
        ada = await organizer(api)
        draft = await create(api, ada, **complete_body())

        response = await api.client.get(f"{LIST}{draft['uuid']}/calendar.ics")

        assert response.status_code == 404

    async def test_the_openapi_document_shows_the_calendar_path_as_served(
        self, api: Api
    ) -> None:
        schema = (await api.client.get("/schema/openapi.json")).json()

        assert "/api/v1/public/events/{identifier}/calendar.ics" in schema["paths"]
        assert "/api/v1/public/events/{identifier}/" in schema["paths"]
        assert "/api/v1/events/{event_uuid}/sessions/{uuid}/" in schema["paths"]
