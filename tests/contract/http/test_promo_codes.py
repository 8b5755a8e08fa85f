"""Promo codes and the price preview over HTTP, on SQLite."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import (
    PROBLEM,
    complete_body,
    field_errors,
    organizer,
    publish,
)

CODES = "/api/v1/promo-codes/"


async def paid_event(api: Api, tokens: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A published event of 19.99 EUR."""
    response = await api.client.post(
        "/api/v1/events/",
        json=complete_body(price=1999, currency="EUR", **fields),
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return await publish(api, tokens, event["uuid"])


async def new_code(api: Api, tokens: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"code": "SPRING25", "discount_type": "percent", "amount": 15, **fields}
    response = await api.client.post(CODES, json=body, headers=bearer(tokens))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def preview(api: Api, event: str, code: str | None) -> Any:
    return await api.client.post(
        f"/api/v1/public/events/{event}/price-preview/", json={"promo_code": code}
    )


class TestCreating:
    async def test_a_code_is_created_with_its_uuid_and_no_uses(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)

        body = await new_code(
            api,
            tokens,
            code=" Spring25 ",
            amount="12.5",
            events=[event["uuid"]],
            valid_from="2031-05-17T09:30:00+02:00",
            max_uses=10,
            max_uses_per_email=1,
        )

        assert body["code"] == "Spring25"
        assert body["discount_type"] == "percent"
        assert body["amount"] == "12.50"
        assert body["events"] == [event["uuid"]]
        assert body["valid_from"] == "2031-05-17T07:30:00Z"
        assert body["valid_until"] is None
        assert (body["max_uses"], body["max_uses_per_email"]) == (10, 1)
        assert body["is_active"] is True
        assert body["times_used"] == 0
        assert "uuid" in body

    async def test_a_fixed_amount_is_whole_minor_units(self, api: Api) -> None:
        tokens = await organizer(api)

        body = await new_code(api, tokens, discount_type="fixed", amount="500")
        response = await api.client.post(
            CODES,
            json={"code": "HALF", "discount_type": "fixed", "amount": 2.5},
            headers=bearer(tokens),
        )

        assert body["amount"] == "500"
        assert field_errors(response) == {"amount": "invalid"}

    async def test_a_code_differing_only_in_case_is_taken_for_me_only(
        self, api: Api
    ) -> None:
        ada = await organizer(api, "ada@example.org")
        grace = await organizer(api, "grace@example.org")
        await new_code(api, ada, code="spring25")

        mine = await api.client.post(
            CODES,
            json={"code": "SPRING25", "discount_type": "percent", "amount": 5},
            headers=bearer(ada),
        )
        theirs = await new_code(api, grace, code="SPRING25")

        assert field_errors(mine) == {"code": "taken"}
        assert theirs["code"] == "SPRING25"

    async def test_another_organizers_event_is_refused_naming_events(
        self, api: Api
    ) -> None:
        ada = await organizer(api, "ada@example.org")
        grace = await organizer(api, "grace@example.org")
        theirs = await paid_event(api, grace)

        response = await api.client.post(
            CODES,
            json={
                "code": "SPRING25",
                "discount_type": "percent",
                "amount": 5,
                "events": [theirs["uuid"]],
            },
            headers=bearer(ada),
        )

        assert field_errors(response) == {"events": "unknown_event"}
        listed = await api.client.get(CODES, headers=bearer(ada))
        assert listed.json()["count"] == 0

    @pytest.mark.parametrize(
        ("fields", "errors"),
        [
            ({"code": "a b"}, {"code": "invalid"}),
            ({"code": "ab"}, {"code": "invalid_length"}),
            ({"amount": 101}, {"amount": "out_of_range"}),
            ({"amount": "12.345"}, {"amount": "invalid"}),
            ({"discount_type": "gift"}, {"discount_type": "invalid"}),
            ({"max_uses": 0}, {"max_uses": "out_of_range"}),
            ({"valid_from": "2031-05-17T09:30:00"}, {"valid_from": "naive_time"}),
            ({"valid_until": "2031-02-30"}, {"valid_until": "invalid"}),
            ({"valid_until": "soon"}, {"valid_until": "invalid"}),
            (
                {"valid_from": "2031-05-17", "valid_until": "2031-05-16"},
                {"valid_until": "before_start"},
            ),
            ({"events": ["not-a-uuid"]}, {"events[0]": "invalid"}),
            ({"times_used": 3}, {"times_used": "unknown_field"}),
            ({"valid_until": "9999-12-31"}, {"valid_until": "out_of_range"}),
            (
                {"valid_until": "9999-12-31T23:00:00-05:00"},
                {"valid_until": "out_of_range"},
            ),
            (
                {"valid_from": "0001-01-01T00:00:00+05:00"},
                {"valid_from": "out_of_range"},
            ),
            ({"valid_from": "1969-12-31"}, {"valid_from": "out_of_range"}),
            ({"valid_until": "3000-01-01"}, {"valid_until": "out_of_range"}),
            (
                {
                    "valid_from": "0001-01-01T00:00:00+05:00",
                    "valid_until": "9999-12-31T23:00:00-05:00",
                },
                {"valid_from": "out_of_range", "valid_until": "out_of_range"},
            ),
        ],
    )
    async def test_bad_input_is_a_400_naming_the_field(
        self, api: Api, fields: dict[str, Any], errors: dict[str, str]
    ) -> None:
        tokens = await organizer(api)
        body = {"code": "SPRING25", "discount_type": "percent", "amount": 5, **fields}

        response = await api.client.post(CODES, json=body, headers=bearer(tokens))

        assert field_errors(response) == errors
        assert (await api.client.get(CODES, headers=bearer(tokens))).json()[
            "count"
        ] == 0

    async def test_only_organizers_create_codes(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.post(
            CODES,
            json={"code": "SPRING25", "discount_type": "percent", "amount": 5},
            headers=bearer(tokens),
        )

        assert response.status_code == 403
        assert response.json()["code"] == "capability_missing"

    async def test_codes_need_a_signed_in_caller(self, api: Api) -> None:
        assert (await api.client.get(CODES)).status_code == 401


class TestDatesAlone:
    async def test_a_date_ends_at_the_end_of_that_day_in_my_time_zone(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)
        profile = await api.client.patch(
            "/api/v1/users/me/organizer-profile/",
            json={"timezone": "Europe/Paris"},
            headers=bearer(tokens),
        )

        body = await new_code(
            api, tokens, valid_from="2031-07-01", valid_until="2031-07-31"
        )

        assert profile.status_code == 200, profile.text
        assert profile.json()["timezone"] == "Europe/Paris"
        assert body["valid_from"] == "2031-06-30T22:00:00Z"
        assert body["valid_until"] == "2031-07-31T21:59:59.999999Z"

    async def test_the_profile_time_zone_is_utc_until_changed(self, api: Api) -> None:
        tokens = await organizer(api)

        profile = await api.client.get(
            "/api/v1/users/me/organizer-profile/", headers=bearer(tokens)
        )
        refused = await api.client.patch(
            "/api/v1/users/me/organizer-profile/",
            json={"timezone": "Mars/Olympus"},
            headers=bearer(tokens),
        )

        assert profile.json()["timezone"] == "UTC"
        assert field_errors(refused) == {"timezone": "invalid"}


class TestListing:
    async def test_my_codes_are_paginated_and_filtered(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)
        everywhere = await new_code(api, tokens, code="everywhere")
        here = await new_code(api, tokens, code="here", events=[event["uuid"]])
        off = await new_code(api, tokens, code="off", is_active=False)

        page = await api.client.get(
            CODES, params={"page_size": 2}, headers=bearer(tokens)
        )
        active_here = await api.client.get(
            CODES,
            params={"is_active": "true", "event": event["uuid"]},
            headers=bearer(tokens),
        )
        inactive = await api.client.get(
            CODES, params={"is_active": "false"}, headers=bearer(tokens)
        )

        assert page.status_code == 200, page.text
        assert page.json()["count"] == 3
        assert (page.json()["page"], page.json()["page_size"]) == (1, 2)
        assert len(page.json()["results"]) == 2
        assert {c["uuid"] for c in active_here.json()["results"]} == {
            everywhere["uuid"],
            here["uuid"],
        }
        assert [c["uuid"] for c in inactive.json()["results"]] == [off["uuid"]]


class TestChanging:
    async def test_a_patch_changes_only_what_it_sends(self, api: Api) -> None:
        tokens = await organizer(api)
        code = await new_code(api, tokens, max_uses=5)

        response = await api.client.patch(
            f"{CODES}{code['uuid']}/",
            json={"discount_type": "fixed", "amount": 300, "max_uses": None},
            headers=bearer(tokens),
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["discount_type"], body["amount"]) == ("fixed", "300")
        assert body["max_uses"] is None
        assert body["code"] == "SPRING25"

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("valid_until", "9999-12-31"),
            ("valid_until", "9999-12-31T23:00:00-05:00"),
            ("valid_from", "0001-01-01T00:00:00+05:00"),
            ("valid_from", "0001-01-01"),
        ],
    )
    async def test_a_bound_outside_1970_to_2999_is_refused(
        self, api: Api, name: str, value: str
    ) -> None:
        tokens = await organizer(api)
        profile = await api.client.patch(
            "/api/v1/users/me/organizer-profile/",
            json={"timezone": "America/New_York"},
            headers=bearer(tokens),
        )
        code = await new_code(api, tokens)

        response = await api.client.patch(
            f"{CODES}{code['uuid']}/", json={name: value}, headers=bearer(tokens)
        )
        shown = await api.client.get(f"{CODES}{code['uuid']}/", headers=bearer(tokens))

        assert profile.status_code == 200, profile.text
        assert field_errors(response) == {name: "out_of_range"}
        assert shown.json()[name] is None

    async def test_response_fields_are_read_only(self, api: Api) -> None:
        tokens = await organizer(api)
        code = await new_code(api, tokens)

        response = await api.client.patch(
            f"{CODES}{code['uuid']}/", json={"times_used": 0}, headers=bearer(tokens)
        )

        assert field_errors(response) == {"times_used": "read_only"}

    async def test_delete_deactivates_and_keeps_the_code(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)
        code = await new_code(api, tokens)

        deleted = await api.client.delete(
            f"{CODES}{code['uuid']}/", headers=bearer(tokens)
        )
        again = await api.client.delete(
            f"{CODES}{code['uuid']}/", headers=bearer(tokens)
        )
        shown = await api.client.get(f"{CODES}{code['uuid']}/", headers=bearer(tokens))
        refused = await preview(api, event["slug"], "SPRING25")

        assert (deleted.status_code, again.status_code) == (204, 204)
        assert shown.json()["is_active"] is False
        assert refused.status_code == 400
        assert refused.json()["code"] == "promo_code_inactive"


class TestTenantIsolation:
    async def test_another_organizers_code_is_not_found_on_every_endpoint(
        self, api: Api
    ) -> None:
        ada = await organizer(api, "ada@example.org")
        grace = await organizer(api, "grace@example.org")
        code = await new_code(api, ada)
        path = f"{CODES}{code['uuid']}/"
        other = bearer(grace)

        answers = [
            await api.client.get(path, headers=other),
            await api.client.patch(path, json={"amount": 99}, headers=other),
            await api.client.delete(path, headers=other),
        ]
        listed = await api.client.get(CODES, headers=other)

        for response in answers:
            assert response.status_code == 404, response.text
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.json()["code"] == "not_found"
        assert listed.json()["count"] == 0
        mine = await api.client.get(path, headers=bearer(ada))
        assert (mine.json()["amount"], mine.json()["is_active"]) == ("15.00", True)


class TestPricePreview:
    async def test_the_preview_quotes_the_discount_without_using_the_code(
        self, api: Api
    ) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)
        code = await new_code(api, tokens, max_uses=1)

        by_slug = await preview(api, event["slug"], "spring25")
        by_uuid = await preview(api, event["uuid"], "SPRING25")

        assert by_slug.status_code == 200, by_slug.text
        assert by_slug.json() == {
            "list_price": 1999,
            "discount": 300,
            "final_price": 1699,
            "currency": "EUR",
        }
        assert by_uuid.json() == by_slug.json()
        shown = await api.client.get(f"{CODES}{code['uuid']}/", headers=bearer(tokens))
        assert shown.json()["times_used"] == 0

    async def test_without_a_code_the_preview_is_the_list_price(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)

        response = await preview(api, event["uuid"], None)

        assert response.json() == {
            "list_price": 1999,
            "discount": 0,
            "final_price": 1999,
            "currency": "EUR",
        }

    async def test_a_refused_code_says_why_naming_promo_code(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)
        other = await paid_event(api, tokens, title="Another one")
        await new_code(api, tokens, code="ELSEWHERE", events=[other["uuid"]])
        await new_code(api, tokens, code="LATER", valid_from="2099-01-01")
        await new_code(api, tokens, code="OVER", valid_until="2020-01-01")

        answers = {
            code: await preview(api, event["uuid"], code)
            for code in ("NOPE", "ELSEWHERE", "LATER", "OVER")
        }

        assert {code: field_errors(r) for code, r in answers.items()} == {
            "NOPE": {"promo_code": "promo_code_unknown"},
            "ELSEWHERE": {"promo_code": "promo_code_not_for_event"},
            "LATER": {"promo_code": "promo_code_not_yet_valid"},
            "OVER": {"promo_code": "promo_code_expired"},
        }
        assert answers["NOPE"].json()["code"] == "promo_code_unknown"

    async def test_guessing_codes_is_held_back_with_a_429(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)
        await new_code(api, tokens)
        misses = [await preview(api, event["uuid"], f"GUESS{n}") for n in range(20)]

        held = await preview(api, event["uuid"], "SPRING25")
        registering = await api.client.post(
            f"/api/v1/public/events/{event['uuid']}/register/",
            json={
                "email": "grace@example.org",
                "first_name": "Grace",
                "last_name": "Hopper",
                "promo_code": "SPRING25",
            },
        )

        assert {r.status_code for r in misses} == {400}
        assert held.status_code == registering.status_code == 429
        assert held.headers["content-type"].startswith(PROBLEM)
        assert held.json()["code"] == "throttled"
        assert 0 < int(held.headers["retry-after"]) <= 15 * 60
        listed = await api.client.get(
            f"/api/v1/events/{event['uuid']}/registrations/", headers=bearer(tokens)
        )
        assert listed.json()["count"] == 0

    async def test_a_draft_or_unknown_event_has_no_preview(self, api: Api) -> None:
        tokens = await organizer(api)
        response = await api.client.post(
            "/api/v1/events/", json=complete_body(), headers=bearer(tokens)
        )
        draft = response.json()

        assert (await preview(api, draft["uuid"], None)).status_code == 404
        assert (await preview(api, "no-such-event", None)).status_code == 404

    async def test_unknown_body_fields_are_refused(self, api: Api) -> None:
        tokens = await organizer(api)
        event = await paid_event(api, tokens)

        response = await api.client.post(
            f"/api/v1/public/events/{event['uuid']}/price-preview/",
            json={"promo_code": "X", "coupon": "Y"},
        )

        assert field_errors(response) == {"coupon": "unknown_field"}
