"""Registering with promo codes over HTTP on SQLite: discounts, uses and refusals."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import field_errors
from tests.contract.http.test_promo_codes import CODES, new_code, preview
from tests.contract.http.test_registering import (
    an_open_event,
    guest,
    mails_to,
    register,
    text_of,
)


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


class TestPaidEvents:
    async def test_a_code_takes_its_discount_and_one_use(self, api: Api) -> None:
        event = await an_open_event(api, price=1999, currency="EUR")
        tokens = event["tokens"]
        code = await new_code(api, tokens, amount=15)

        body = await register(api, event, guest(1, promo_code=" spring25 "))

        assert body["status"] == "confirmed"
        assert (body["amount"], body["currency"]) == (1699, "EUR")
        assert await times_used(api, tokens, code) == 1
        row = await organizer_row(api, event, body)
        assert (row["promo_code"], row["amount"]) == ("SPRING25", 1699)
        await api.wait_for_mails(2)
        (mail,) = mails_to(api, "guest1@example.org")
        assert "Paid: 16.99 EUR" in text_of(mail)

    async def test_cancelling_gives_the_use_back_exactly_once(self, api: Api) -> None:
        event = await an_open_event(api, price=1999, currency="EUR")
        tokens = event["tokens"]
        code = await new_code(api, tokens, amount=15, max_uses=2)
        attendee = await api.verified_user("attendee@example.org")
        mine = await register(api, event, {"promo_code": "SPRING25"}, tokens=attendee)
        theirs = await register(api, event, guest(2, promo_code="SPRING25"))
        assert await times_used(api, tokens, code) == 2

        cancels = [
            await api.client.post(
                f"/api/v1/registrations/{mine['uuid']}/cancel/",
                headers=bearer(attendee),
            )
            for _ in range(2)
        ]
        by_organizer = await api.client.post(
            f"/api/v1/events/{event['uuid']}/registrations/{mine['uuid']}/cancel/",
            headers=bearer(tokens),
        )

        assert [r.status_code for r in cancels] == [200, 200]
        assert [r.json()["status"] for r in cancels] == ["cancelled", "cancelled"]
        assert by_organizer.status_code == 200, by_organizer.text
        assert await times_used(api, tokens, code) == 1
        again = await register(api, event, guest(3, promo_code="SPRING25"))
        assert again["amount"] == 1699
        assert await times_used(api, tokens, code) == 2
        full = await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/",
            json=guest(4, promo_code="SPRING25"),
        )
        assert field_errors(full) == {"promo_code": "promo_code_used_up"}
        assert theirs["status"] == "confirmed"

    async def test_a_hundred_percent_code_confirms_without_payment(
        self, api: Api
    ) -> None:
        event = await an_open_event(api, price=4500, currency="EUR")
        tokens = event["tokens"]
        code = await new_code(api, tokens, code="SPEAKER", amount=100)

        body = await register(api, event, guest(1, promo_code="speaker"))

        assert body["status"] == "confirmed"
        assert (body["amount"], body["currency"]) == (0, "EUR")
        assert body["checkout_url"] is None
        assert body["hold_expires_at"] is None
        assert body["confirmed_at"] is not None
        assert await times_used(api, tokens, code) == 1
        platform = api.container.platform()
        async with platform.ports.uow_factory() as uow:
            stored = await uow.registrations.get(UUID(body["uuid"]))
        assert stored is not None
        assert (stored.list_price, stored.discount) == (4500, 4500)
        assert stored.payment_ref is None
        await api.wait_for_mails(2)
        (mail,) = mails_to(api, "guest1@example.org")
        assert "You are registered" in str(mail["Subject"])
        assert "Paid:" not in text_of(mail)
