"""The subscription workflows over HTTP with local payments, on SQLite."""

from __future__ import annotations

from typing import Any

from tests.contract.http.conftest import Api, bearer

PROBLEM = "application/problem+json"


async def _subscribe(
    api: Api, tokens: dict[str, str], plan: str = "organizer", interval: str = "month"
) -> dict[str, Any]:
    response = await api.client.post(
        "/api/v1/subscription/",
        json={"plan": plan, "interval": interval},
        headers=bearer(tokens),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _me(api: Api, tokens: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestViewing:
    async def test_a_new_account_is_on_the_attendee_plan(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.get("/api/v1/subscription/", headers=bearer(tokens))

        assert response.status_code == 200
        body = response.json()
        assert body["plan"] == "attendee"
        assert body["status"] == "active"
        assert body["cancel_at_period_end"] is False
        assert body["trial_end"] is None
        assert body["usage"]["events_per_period"] == {
            "used": 0,
            "limit": 0,
            "resets_at": body["current_period_end"],
        }
        assert response.headers["cache-control"] == "no-store"

    async def test_needs_a_token(self, api: Api) -> None:
        response = await api.client.get("/api/v1/subscription/")

        assert response.status_code == 401
        assert response.headers["content-type"].startswith(PROBLEM)


class TestUpgrading:
    async def test_the_organizer_plan_starts_at_once_with_its_trial(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user()

        body = await _subscribe(api, tokens)

        assert body["plan"] == "organizer"
        assert body["status"] == "trialing"
        assert body["checkout_url"] is None
        assert body["trial_end"] == body["current_period_end"]
        assert body["usage"]["events_per_period"]["limit"] == 5
        shown = (
            await api.client.get("/api/v1/subscription/", headers=bearer(tokens))
        ).json()
        assert shown["uuid"] == body["uuid"]
        me = await _me(api, tokens)
        assert (me["is_organizer"], me["is_lms_owner"]) == (True, False)

    async def test_organizer_pro_makes_an_lms_owner(self, api: Api) -> None:
        tokens = await api.verified_user()

        await _subscribe(api, tokens, "organizer_pro", "year")

        me = await _me(api, tokens)
        assert (me["is_organizer"], me["is_lms_owner"]) == (True, True)

    async def test_bad_choices_are_problems_naming_the_field(self, api: Api) -> None:
        tokens = await api.verified_user()

        unknown = await api.client.post(
            "/api/v1/subscription/",
            json={"plan": "gold", "interval": "month"},
            headers=bearer(tokens),
        )
        extra_field = await api.client.post(
            "/api/v1/subscription/",
            json={"plan": "organizer", "coupon": "x"},
            headers=bearer(tokens),
        )

        assert unknown.status_code == 400
        assert unknown.json()["errors"][0]["field"] == "plan"
        assert extra_field.status_code == 400
        assert extra_field.json()["code"] == "validation_error"
        still = (
            await api.client.get("/api/v1/subscription/", headers=bearer(tokens))
        ).json()
        assert still["plan"] == "attendee"

    async def test_a_second_subscription_is_a_conflict(self, api: Api) -> None:
        tokens = await api.verified_user()
        await _subscribe(api, tokens)

        response = await api.client.post(
            "/api/v1/subscription/",
            json={"plan": "organizer_pro", "interval": "month"},
            headers=bearer(tokens),
        )

        assert response.status_code == 409
        assert response.json()["code"] == "already_subscribed"


class TestChanging:
    async def test_switching_plan_and_interval(self, api: Api) -> None:
        tokens = await api.verified_user()
        started = await _subscribe(api, tokens)

        response = await api.client.post(
            f"/api/v1/subscription/{started['uuid']}/",
            json={"plan": "organizer_pro", "interval": "year"},
            headers=bearer(tokens),
        )

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["uuid"], body["plan"], body["interval"]) == (
            started["uuid"],
            "organizer_pro",
            "year",
        )

    async def test_an_empty_change_is_refused(self, api: Api) -> None:
        tokens = await api.verified_user()
        started = await _subscribe(api, tokens)

        response = await api.client.post(
            f"/api/v1/subscription/{started['uuid']}/",
            json={},
            headers=bearer(tokens),
        )

        assert response.status_code == 400

    async def test_another_accounts_subscription_is_not_found(self, api: Api) -> None:
        ada = await api.verified_user()
        grace = await api.verified_user("grace@example.org")
        theirs = await _subscribe(api, grace)
        await _subscribe(api, ada)

        response = await api.client.post(
            f"/api/v1/subscription/{theirs['uuid']}/",
            json={"plan": "organizer_pro"},
            headers=bearer(ada),
        )

        assert response.status_code == 404


class TestCancelReactivateDowngrade:
    async def test_cancel_then_reactivate(self, api: Api) -> None:
        tokens = await api.verified_user()
        await _subscribe(api, tokens)

        canceled = await api.client.post(
            "/api/v1/subscription/cancel/", headers=bearer(tokens)
        )
        reactivated = await api.client.post(
            "/api/v1/subscription/reactivate/", headers=bearer(tokens)
        )
        again = await api.client.post(
            "/api/v1/subscription/reactivate/", headers=bearer(tokens)
        )

        assert canceled.status_code == 200
        assert canceled.json()["cancel_at_period_end"] is True
        assert reactivated.status_code == 200
        assert reactivated.json()["cancel_at_period_end"] is False
        assert again.status_code == 409
        assert again.json()["code"] == "not_canceling"

    async def test_cancel_on_the_free_plan_is_a_conflict(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.post(
            "/api/v1/subscription/cancel/", headers=bearer(tokens)
        )

        assert response.status_code == 409
        assert response.json()["code"] == "not_subscribed"

    async def test_downgrade_ends_the_plan_and_the_roles(self, api: Api) -> None:
        tokens = await api.verified_user()
        await _subscribe(api, tokens)

        response = await api.client.post(
            "/api/v1/users/me/downgrade/", headers=bearer(tokens)
        )

        assert response.status_code == 200, response.text
        assert response.json()["plan"] == "attendee"
        me = await _me(api, tokens)
        assert me["is_organizer"] is False

    async def test_sync_in_local_mode_shows_the_subscription(self, api: Api) -> None:
        tokens = await api.verified_user()
        started = await _subscribe(api, tokens)

        response = await api.client.post(
            "/api/v1/subscription/sync/", headers=bearer(tokens)
        )

        assert response.status_code == 200
        assert response.json()["uuid"] == started["uuid"]


class TestPaymentMethods:
    async def test_cards_are_listed_defaulted_and_detached(self, api: Api) -> None:
        tokens = await api.verified_user()
        headers = bearer(tokens)

        visa = await api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_visa", "make_default": True},
            headers=headers,
        )
        master = await api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_mastercard"},
            headers=headers,
        )
        listed = await api.client.get("/api/v1/payment-methods/", headers=headers)
        removed = await api.client.delete(
            f"/api/v1/payment-methods/?payment_method_id={master.json()['id']}",
            headers=headers,
        )
        after = await api.client.get("/api/v1/payment-methods/", headers=headers)

        assert visa.status_code == 201, visa.text
        assert visa.json()["brand"] == "visa"
        assert visa.json()["last4"] == "4242"
        assert [(c["last4"], c["is_default"]) for c in listed.json()] == [
            ("4242", True),
            ("4444", False),
        ]
        assert removed.status_code == 204
        assert [c["id"] for c in after.json()] == [visa.json()["id"]]

    async def test_without_a_card_a_setup_intent_is_created(self, api: Api) -> None:
        tokens = await api.verified_user()

        response = await api.client.post(
            "/api/v1/payment-methods/", headers=bearer(tokens)
        )

        assert response.status_code == 201
        assert response.json()["client_secret"].startswith(
            response.json()["setup_intent_id"]
        )

    async def test_the_last_card_of_a_paying_subscription_stays(self, api: Api) -> None:
        tokens = await api.verified_user()
        await _subscribe(api, tokens)
        card = await api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_visa", "make_default": True},
            headers=bearer(tokens),
        )

        response = await api.client.delete(
            f"/api/v1/payment-methods/{card.json()['id']}/", headers=bearer(tokens)
        )

        assert response.status_code == 409
        assert response.json()["code"] == "last_payment_method"

    async def test_a_subscription_past_its_trial_is_not_reactivated_without_a_card(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user()
        auth = bearer(tokens)
        await _subscribe(api, tokens)
        downgraded = await api.client.post("/api/v1/users/me/downgrade/", headers=auth)
        assert downgraded.status_code == 200, downgraded.text
        active = await _subscribe(api, tokens)
        assert (active["status"], active["trial_end"]) == ("active", None)
        card = await api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_visa", "make_default": True},
            headers=auth,
        )
        await api.client.post("/api/v1/subscription/cancel/", headers=auth)
        removed = await api.client.delete(
            f"/api/v1/payment-methods/{card.json()['id']}/", headers=auth
        )

        refused = await api.client.post(
            "/api/v1/subscription/reactivate/", headers=auth
        )
        await api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_mastercard", "make_default": True},
            headers=auth,
        )
        allowed = await api.client.post(
            "/api/v1/subscription/reactivate/", headers=auth
        )

        assert removed.status_code == 204, removed.text
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "payment_method_required"
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["cancel_at_period_end"] is False

    async def test_bad_cards_and_unknown_ids_are_problems(self, api: Api) -> None:
        tokens = await api.verified_user()

        declined = await api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_chargeDeclined"},
            headers=bearer(tokens),
        )
        unknown = await api.client.delete(
            "/api/v1/payment-methods/pm_nothing/", headers=bearer(tokens)
        )
        nameless = await api.client.delete(
            "/api/v1/payment-methods/", headers=bearer(tokens)
        )

        assert declined.status_code == 400
        assert declined.json()["errors"][0]["code"] == "card_declined"
        assert unknown.status_code == 404
        assert nameless.status_code == 400


class TestWebhookInLocalMode:
    async def test_stripe_webhooks_are_not_configured(self, api: Api) -> None:
        response = await api.client.post(
            "/webhooks/stripe/", content=b"{}", headers={"Stripe-Signature": "t=1"}
        )

        assert response.status_code == 503
        assert response.json()["code"] == "payments_not_configured"
