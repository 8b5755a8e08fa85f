"""Registering with promo codes over HTTP on SQLite: discounts, uses and refusals."""

from __future__ import annotations

from typing import Any

from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import field_errors
from tests.contract.http.test_promo_codes import CODES, new_code, preview
from tests.contract.http.test_registering import an_open_event, guest, register


async def times_used(api: Api, tokens: dict[str, str], code: dict[str, Any]) -> int:
    response = await api.client.get(f"{CODES}{code['uuid']}/", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    used: int = response.json()["times_used"]
    return used


async def organizer_row(
    api: Api, event: dict[str, Any], registration: dict[str, Any]
) -> dict[str, Any]:
    response = await api.client.get(
        f"/api/v1/events/{event['uuid']}/registrations/{registration['uuid']}/",
        headers=bearer(event["tokens"]),
    )
    assert response.status_code == 200, response.text
    row: dict[str, Any] = response.json()
    return row


class TestFreeEvents:
    async def test_a_code_on_a_free_event_is_checked_but_uses_nothing(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        tokens = event["tokens"]
        code = await new_code(api, tokens, code="WELCOME", max_uses=1)

        quoted = await preview(api, event["slug"], "welcome")
        first = await register(api, event, guest(1, promo_code="welcome"))
        second = await register(api, event, guest(2, promo_code="WELCOME"))

        assert quoted.json() == {
            "list_price": 0,
            "discount": 0,
            "final_price": 0,
            "currency": None,
        }
        assert (first["status"], first["amount"]) == ("confirmed", 0)
        assert second["status"] == "confirmed"
        assert await times_used(api, tokens, code) == 0
        assert (await organizer_row(api, event, first))["promo_code"] is None

        cancelled = await api.client.post(
            f"/api/v1/events/{event['uuid']}/registrations/{first['uuid']}/cancel/",
            headers=bearer(tokens),
        )

        assert cancelled.status_code == 200, cancelled.text
        assert await times_used(api, tokens, code) == 0

    async def test_a_refused_code_is_refused_on_a_free_event_as_in_the_preview(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        await new_code(api, event["tokens"], code="OVER", valid_until="2020-01-01")

        previews = {c: await preview(api, event["slug"], c) for c in ("NOPE", "OVER")}
        registrations = {
            c: await api.client.post(
                f"/api/v1/public/events/{event['slug']}/register/",
                json=guest(c, promo_code=c),
            )
            for c in ("NOPE", "OVER")
        }

        expected = {
            "NOPE": {"promo_code": "promo_code_unknown"},
            "OVER": {"promo_code": "promo_code_expired"},
        }
        assert {c: field_errors(r) for c, r in previews.items()} == expected
        assert {c: field_errors(r) for c, r in registrations.items()} == expected
