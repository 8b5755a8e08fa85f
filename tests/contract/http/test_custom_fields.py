"""The custom registration fields of an event over HTTP, on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.persistence import upgrade_database
from adapters.settings import load_settings
from platform_core.uow import UnitOfWork
from tests.contract.http.conftest import Api, bearer, settings_env

PROBLEM = "application/problem+json"


@dataclass
class AnsweredFields:
    """Registrations as the events context sees them: these fields have answers."""

    answered: set[UUID] = field(default_factory=set)

    async def confirmed(self, uow: UnitOfWork, event_id: UUID) -> int:
        return 0

    async def any(self, uow: UnitOfWork, event_id: UUID) -> bool:
        return False

    async def active(self, uow: UnitOfWork, event_id: UUID) -> int:
        return 0

    async def has_answers(self, uow: UnitOfWork, field_id: UUID) -> bool:
        return field_id in self.answered


@pytest.fixture
def registrations() -> AnsweredFields:
    return AnsweredFields()


@pytest.fixture
async def api(tmp_path: Path, registrations: AnsweredFields) -> AsyncIterator[Api]:
    """The real app, with registrations that say which fields have answers."""
    settings = load_settings(settings_env(tmp_path))
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    container = build_container(settings)
    container.ports.add_kwargs(registrations=registrations)
    async with AsyncTestClient(create_app(container)) as client:
        yield Api(client, container, settings.resolved_mail_outbox)


async def an_organizer(api: Api, email: str = "ada@example.org") -> dict[str, str]:
    tokens = await api.verified_user(email)
    response = await api.client.post(
        "/api/v1/subscription/",
        json={"plan": "organizer", "interval": "month"},
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    return tokens


async def an_event(api: Api, tokens: dict[str, str]) -> str:
    response = await api.client.post(
        "/api/v1/events/",
        json={
            "title": "Clinical audit masterclass",
            "description": "Two hours on audit cycles.",
            "timezone": "Europe/London",
            "starts_at": "2036-03-02T09:00:00+00:00",
            "ends_at": "2036-03-02T11:00:00+00:00",
        },
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    uuid: str = response.json()["uuid"]
    return uuid


@dataclass
class Organizer:
    api: Api
    tokens: dict[str, str]
    event: str

    @property
    def base(self) -> str:
        return f"/api/v1/events/{self.event}/custom-fields/"

    async def add(self, **body: Any) -> dict[str, Any]:
        body = {"label": "Job title", "field_type": "short_text"} | body
        response = await self.api.client.post(
            self.base, json=body, headers=bearer(self.tokens)
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def listed(self, query: str = "") -> list[dict[str, Any]]:
        response = await self.api.client.get(
            self.base + query, headers=bearer(self.tokens)
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


@pytest.fixture
async def ada(api: Api) -> Organizer:
    tokens = await an_organizer(api)
    return Organizer(api, tokens, await an_event(api, tokens))


def field_errors(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


class TestCreating:
    async def test_a_field_is_created_last_with_its_defaults(
        self, ada: Organizer
    ) -> None:
        first = await ada.add(label="Job title")
        second = await ada.add(
            label="Dietary needs",
            field_type="multiple_choice",
            options=["Vegetarian", "Vegan"],
            help_text="Tick all that apply.",
        )

        assert first["order"] == 0
        assert second == {
            "uuid": second["uuid"],
            "label": "Dietary needs",
            "field_type": "multiple_choice",
            "required": False,
            "help_text": "Tick all that apply.",
            "options": ["Vegetarian", "Vegan"],
            "order": 1,
            "required_if": None,
            "is_archived": False,
            "archived_at": None,
            "created_at": second["created_at"],
            "updated_at": None,
        }
        assert [f["uuid"] for f in await ada.listed()] == [
            first["uuid"],
            second["uuid"],
        ]

    async def test_a_condition_on_another_field_is_kept(self, ada: Organizer) -> None:
        member = await ada.add(label="Member?", field_type="checkbox", required=False)

        number = await ada.add(
            label="Membership number",
            required_if={"field": member["uuid"], "equals": True},
        )

        assert number["required_if"] == {"field": member["uuid"], "equals": True}

    async def test_a_choice_field_without_options_is_refused(
        self, ada: Organizer
    ) -> None:
        response = await ada.api.client.post(
            ada.base,
            json={"label": "Size", "field_type": "single_choice"},
            headers=bearer(ada.tokens),
        )

        assert field_errors(response) == [("options", "required")]
        assert await ada.listed() == []

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"label": "", "field_type": "short_text"}, ("label", "required")),
            ({"label": "x" * 201, "field_type": "short_text"}, ("label", "too_long")),
            ({"label": "X", "field_type": "colour"}, ("field_type", "invalid")),
            ({"field_type": "short_text"}, ("label", "required")),
            (
                {"label": "X", "field_type": "number", "options": ["1"]},
                ("options", "not_allowed"),
            ),
            (
                {"label": "X", "field_type": "short_text", "order": 10**12},
                ("order", "out_of_range"),
            ),
            (
                {"label": "X", "field_type": "short_text", "colour": "red"},
                ("colour", "unknown_field"),
            ),
            (
                {
                    "label": "X",
                    "field_type": "short_text",
                    "required_if": {"field": str(uuid4()), "equals": "yes"},
                },
                ("required_if.field", "unknown_field"),
            ),
            (
                {
                    "label": "X",
                    "field_type": "short_text",
                    "required_if": {"field": str(uuid4()), "equals": {"a": 1}},
                },
                ("required_if.equals", "invalid"),
            ),
        ],
    )
    async def test_bad_input_is_a_400_naming_the_field(
        self, ada: Organizer, body: dict[str, Any], expected: tuple[str, str]
    ) -> None:
        response = await ada.api.client.post(
            ada.base, json=body, headers=bearer(ada.tokens)
        )

        assert field_errors(response) == [expected]
        assert await ada.listed() == []

    async def test_needs_a_token(self, ada: Organizer) -> None:
        response = await ada.api.client.post(
            ada.base, json={"label": "X", "field_type": "short_text"}
        )

        assert response.status_code == 401


class TestReadingAndChanging:
    async def test_a_field_is_read_and_changed_by_its_uuid(
        self, ada: Organizer
    ) -> None:
        item = await ada.add()
        url = f"{ada.base}{item['uuid']}/"

        changed = await ada.api.client.patch(
            url,
            json={"label": "Role", "required": True, "help_text": "As on your badge"},
            headers=bearer(ada.tokens),
        )
        shown = await ada.api.client.get(url, headers=bearer(ada.tokens))

        assert changed.status_code == 200, changed.text
        assert shown.json() == changed.json()
        assert (
            shown.json()["label"],
            shown.json()["required"],
            shown.json()["help_text"],
        ) == ("Role", True, "As on your badge")
        assert shown.json()["updated_at"] is not None

    async def test_a_condition_is_cleared_with_null(self, ada: Organizer) -> None:
        member = await ada.add(field_type="checkbox", label="Member?")
        number = await ada.add(required_if={"field": member["uuid"], "equals": True})

        response = await ada.api.client.patch(
            f"{ada.base}{number['uuid']}/",
            json={"required_if": None},
            headers=bearer(ada.tokens),
        )

        assert response.status_code == 200, response.text
        assert response.json()["required_if"] is None

    async def test_response_attributes_are_read_only(self, ada: Organizer) -> None:
        item = await ada.add()

        response = await ada.api.client.patch(
            f"{ada.base}{item['uuid']}/",
            json={"uuid": str(uuid4()), "is_archived": True},
            headers=bearer(ada.tokens),
        )

        assert field_errors(response) == [
            ("is_archived", "read_only"),
            ("uuid", "read_only"),
        ]

    async def test_a_condition_closing_a_circle_is_refused(
        self, ada: Organizer
    ) -> None:
        first = await ada.add(field_type="checkbox", label="First")
        second = await ada.add(
            field_type="checkbox",
            label="Second",
            required_if={"field": first["uuid"], "equals": True},
        )

        response = await ada.api.client.patch(
            f"{ada.base}{first['uuid']}/",
            json={"required_if": {"field": second["uuid"], "equals": False}},
            headers=bearer(ada.tokens),
        )

        assert field_errors(response) == [("required_if.field", "cycle")]

    async def test_an_unknown_field_is_not_found(self, ada: Organizer) -> None:
        response = await ada.api.client.get(
            f"{ada.base}{uuid4()}/", headers=bearer(ada.tokens)
        )

        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


class TestRemoving:
    async def test_an_unanswered_field_is_deleted(self, ada: Organizer) -> None:
        item = await ada.add()

        response = await ada.api.client.delete(
            f"{ada.base}{item['uuid']}/", headers=bearer(ada.tokens)
        )

        assert response.status_code == 204
        assert await ada.listed("?include_archived=true") == []

    async def test_an_answered_field_is_archived_and_keeps_its_type(
        self, ada: Organizer, registrations: AnsweredFields
    ) -> None:
        kept = await ada.add(label="Kept")
        answered = await ada.add(label="Answered")
        registrations.answered.add(UUID(answered["uuid"]))
        url = f"{ada.base}{answered['uuid']}/"

        retyped = await ada.api.client.patch(
            url, json={"field_type": "long_text"}, headers=bearer(ada.tokens)
        )
        removed = await ada.api.client.delete(url, headers=bearer(ada.tokens))

        assert retyped.status_code == 409
        assert retyped.json()["code"] == "field_has_answers"
        assert removed.status_code == 204
        assert [f["uuid"] for f in await ada.listed()] == [kept["uuid"]]
        every = await ada.listed("?include_archived=true")
        assert [(f["uuid"], f["is_archived"]) for f in every] == [
            (kept["uuid"], False),
            (answered["uuid"], True),
        ]
        assert every[1]["archived_at"] is not None

    async def test_a_field_another_depends_on_is_refused(self, ada: Organizer) -> None:
        member = await ada.add(field_type="checkbox", label="Member?")
        number = await ada.add(
            label="Number", required_if={"field": member["uuid"], "equals": True}
        )

        response = await ada.api.client.delete(
            f"{ada.base}{member['uuid']}/", headers=bearer(ada.tokens)
        )

        assert response.status_code == 409
        assert response.headers["content-type"].startswith(PROBLEM)
        body = response.json()
        assert body["code"] == "field_has_dependents"
        assert body["dependents"] == [number["uuid"]]
        assert "'Number'" in body["detail"]
        assert len(await ada.listed()) == 2


class TestReordering:
    async def test_the_listed_order_becomes_0_to_n(self, ada: Organizer) -> None:
        a, b, c = [await ada.add(label=label) for label in "abc"]

        response = await ada.api.client.post(
            f"{ada.base}reorder/",
            json={"order": [c["uuid"], a["uuid"], b["uuid"]]},
            headers=bearer(ada.tokens),
        )

        assert response.status_code == 200, response.text
        expected = [(c["uuid"], 0), (a["uuid"], 1), (b["uuid"], 2)]
        assert [(f["uuid"], f["order"]) for f in response.json()] == expected
        assert [(f["uuid"], f["order"]) for f in await ada.listed()] == expected

    async def test_an_order_missing_a_field_is_refused_and_changes_nothing(
        self, ada: Organizer
    ) -> None:
        a, b = await ada.add(label="a"), await ada.add(label="b")

        response = await ada.api.client.post(
            f"{ada.base}reorder/",
            json={"order": [b["uuid"]]},
            headers=bearer(ada.tokens),
        )

        assert field_errors(response) == [("order", "missing_fields")]
        assert [f["uuid"] for f in await ada.listed()] == [a["uuid"], b["uuid"]]

    async def test_an_order_that_is_no_list_of_uuids_is_refused(
        self, ada: Organizer
    ) -> None:
        response = await ada.api.client.post(
            f"{ada.base}reorder/",
            json={"order": ["first"]},
            headers=bearer(ada.tokens),
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["field"].startswith("order")


class TestTenantIsolation:
    async def test_another_organizer_gets_404_on_every_endpoint(
        self, api: Api, ada: Organizer
    ) -> None:
        item = await ada.add()
        grace = bearer(await an_organizer(api, "grace@example.org"))
        one = f"{ada.base}{item['uuid']}/"

        answers = [
            await api.client.get(ada.base, headers=grace),
            await api.client.post(
                ada.base, json={"label": "X", "field_type": "short_text"}, headers=grace
            ),
            await api.client.post(
                f"{ada.base}reorder/", json={"order": [item["uuid"]]}, headers=grace
            ),
            await api.client.get(one, headers=grace),
            await api.client.patch(one, json={"label": "Mine"}, headers=grace),
            await api.client.delete(one, headers=grace),
        ]

        assert [r.status_code for r in answers] == [404] * 6
        assert {r.json()["code"] for r in answers} == {"not_found"}
        assert await ada.listed() == [item]

    async def test_a_field_of_another_event_is_not_found_under_mine(
        self, api: Api, ada: Organizer
    ) -> None:
        other = Organizer(api, ada.tokens, await an_event(api, ada.tokens))
        theirs = await other.add()

        response = await api.client.get(
            f"{ada.base}{theirs['uuid']}/", headers=bearer(ada.tokens)
        )

        assert response.status_code == 404


class TestPublicDetail:
    async def test_the_public_page_carries_the_active_fields_in_order(
        self, api: Api, ada: Organizer, registrations: AnsweredFields
    ) -> None:
        second = await ada.add(label="Second", order=5)
        first = await ada.add(
            label="First", field_type="single_choice", options=["A", "B"], order=1
        )
        old = await ada.add(label="Old", order=0)
        registrations.answered.add(UUID(old["uuid"]))
        await api.client.delete(f"{ada.base}{old['uuid']}/", headers=bearer(ada.tokens))
        published = await api.client.post(
            f"/api/v1/events/{ada.event}/publish/",
            json={"published": True},
            headers=bearer(ada.tokens),
        )
        assert published.status_code == 200, published.text

        response = await api.client.get(f"/api/v1/public/events/{ada.event}/")

        assert response.status_code == 200, response.text
        fields = response.json()["custom_fields"]
        assert [f["uuid"] for f in fields] == [first["uuid"], second["uuid"]]
        assert fields[0] == {
            "uuid": first["uuid"],
            "label": "First",
            "field_type": "single_choice",
            "required": False,
            "help_text": "",
            "options": ["A", "B"],
            "order": 1,
            "required_if": None,
        }


class TestOpenApi:
    async def test_documents_every_custom_field_route(self, api: Api) -> None:
        schema = (await api.client.get("/schema/openapi.json")).json()

        base = "/api/v1/events/{event_uuid}/custom-fields/"
        paths = schema["paths"]
        assert set(paths[base]) >= {"get", "post"}
        assert set(paths[f"{base}reorder/"]) == {"post"}
        assert set(paths[f"{base}{{uuid}}/"]) >= {"get", "patch", "delete"}
        assert "409" in paths[f"{base}{{uuid}}/"]["delete"]["responses"]
