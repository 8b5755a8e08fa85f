"""The subscription workflows over HTTP with Stripe payments.

The real app talks through the stripe SDK to the local fake of Stripe's API,
and webhooks reach `/webhooks/stripe/` signed exactly as Stripe signs them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.persistence import upgrade_database
from adapters.settings import load_settings
from tests.contract.http.conftest import Api, bearer, settings_env
from tests.contract.payments.conftest import (
    PRICES,
    SDK_WARNINGS,
    SECRET_KEY,
    WEBHOOK_SECRET,
    add_prices,
)
from tests.fakes.stripe_server import (
    FakeStripe,
    SignedEvent,
    stripe_fake,
    stripe_fake_server,
)

__all__ = ["stripe_fake", "stripe_fake_server"]

pytestmark = SDK_WARNINGS

PROBLEM = "application/problem+json"


@dataclass
class StripeApi:
    api: Api
    fake: FakeStripe

    async def organizer(self, email: str = "ada@example.org") -> dict[str, str]:
        return await self.api.verified_user(email)

    async def start_checkout(
        self, tokens: dict[str, str], plan: str = "organizer"
    ) -> dict[str, Any]:
        response = await self.api.client.post(
            "/api/v1/subscription/",
            json={"plan": plan, "interval": "month"},
            headers=bearer(tokens),
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def deliver(self, delivery: SignedEvent) -> dict[str, Any]:
        response = await self.api.client.post(
            "/webhooks/stripe/",
            content=delivery.payload,
            headers=delivery.headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def event(self, event_type: str, object_id: str) -> SignedEvent:
        return self.fake.signed_event(event_type, object_id, WEBHOOK_SECRET)

    async def subscription(self, tokens: dict[str, str]) -> dict[str, Any]:
        response = await self.api.client.get(
            "/api/v1/subscription/", headers=bearer(tokens)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def is_organizer(self, tokens: dict[str, str]) -> bool:
        response = await self.api.client.get(
            "/api/v1/users/me/", headers=bearer(tokens)
        )
        assert response.status_code == 200, response.text
        return bool(response.json()["is_organizer"])


@pytest.fixture
async def stripe_api(
    tmp_path: Path, stripe_fake: FakeStripe
) -> AsyncIterator[StripeApi]:
    add_prices(stripe_fake)
    settings = load_settings(
        settings_env(
            tmp_path,
            PLATFORM_PAYMENTS="stripe",
            PLATFORM_STRIPE_SECRET_KEY=SECRET_KEY,
            PLATFORM_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            PLATFORM_STRIPE_PRICES=",".join(f"{k}={v}" for k, v in PRICES.items()),
            PLATFORM_STRIPE_API_BASE=stripe_fake.api_base,
        )
    )
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    container = build_container(settings)
    async with AsyncTestClient(create_app(container)) as client:
        yield StripeApi(
            Api(client, container, settings.resolved_mail_outbox), stripe_fake
        )


class TestCheckoutCycle:
    async def test_checkout_webhook_cancel_and_reactivate(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()

        started = await stripe_api.start_checkout(tokens)

        assert started["checkout_url"].startswith("https://")
        assert started["session_id"].startswith("cs_")
        assert started["plan"] == "attendee"
        assert not await stripe_api.is_organizer(tokens)

        stripe_subscription = stripe_api.fake.complete_checkout(started["session_id"])
        receipt = await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )

        assert receipt == {"received": True, "outcome": "applied"}
        shown = await stripe_api.subscription(tokens)
        assert (shown["plan"], shown["status"], shown["payments"]) == (
            "organizer",
            "trialing",
            "stripe",
        )
        assert shown["trial_end"] is not None
        assert await stripe_api.is_organizer(tokens)

        canceled = await stripe_api.api.client.post(
            "/api/v1/subscription/cancel/", headers=bearer(tokens)
        )

        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["cancel_at_period_end"] is True
        assert stripe_api.fake.get(stripe_subscription["id"])["cancel_at_period_end"]
        assert await stripe_api.is_organizer(tokens)

        reactivated = await stripe_api.api.client.post(
            "/api/v1/subscription/reactivate/", headers=bearer(tokens)
        )

        assert reactivated.status_code == 200, reactivated.text
        assert reactivated.json()["cancel_at_period_end"] is False
        assert reactivated.json()["uuid"] == shown["uuid"]
        stored = stripe_api.fake.get(stripe_subscription["id"])
        assert stored["cancel_at_period_end"] is False
        assert stored["status"] == "trialing"

    async def test_confirm_then_webhook_make_one_subscription(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        stripe_api.fake.complete_checkout(started["session_id"])

        confirmed = await stripe_api.api.client.post(
            "/api/v1/subscription/confirm-checkout/",
            json={"session_id": started["session_id"]},
            headers=bearer(tokens),
        )
        receipt = await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )

        assert confirmed.status_code == 200, confirmed.text
        assert receipt["outcome"] == "applied"
        shown = await stripe_api.subscription(tokens)
        assert shown["uuid"] == confirmed.json()["uuid"]
        assert (shown["plan"], shown["status"]) == ("organizer", "trialing")

    async def test_webhook_then_confirm_make_one_subscription(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        stripe_api.fake.complete_checkout(started["session_id"])

        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )
        after_webhook = await stripe_api.subscription(tokens)
        confirmed = await stripe_api.api.client.post(
            "/api/v1/subscription/confirm-checkout/",
            json={"session_id": started["session_id"]},
            headers=bearer(tokens),
        )

        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["uuid"] == after_webhook["uuid"]
        assert confirmed.json()["plan"] == "organizer"

    async def test_a_checkout_not_yet_paid_activates_nothing(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)

        response = await stripe_api.api.client.post(
            "/api/v1/subscription/confirm-checkout/",
            json={"session_id": started["session_id"]},
            headers=bearer(tokens),
        )

        assert response.status_code == 409, response.text
        assert (await stripe_api.subscription(tokens))["plan"] == "attendee"

    async def test_sync_reads_stripes_state(self, stripe_api: StripeApi) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        subscription = stripe_api.fake.complete_checkout(started["session_id"])
        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )
        stripe_api.fake.update_subscription(subscription["id"], status="past_due")

        response = await stripe_api.api.client.post(
            "/api/v1/subscription/sync/", headers=bearer(tokens)
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "past_due"
        assert not await stripe_api.is_organizer(tokens)


class TestWebhooks:
    async def _paying(self, stripe_api: StripeApi) -> tuple[dict[str, str], str]:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        subscription = stripe_api.fake.complete_checkout(started["session_id"])
        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )
        return tokens, str(subscription["id"])

    @pytest.mark.parametrize(
        ("case", "header"),
        [
            ("missing", None),
            ("other secret", FakeStripe.sign(b"{}", "whsec_someone_else")),
            ("garbled", "t=abc,v1=zz"),
        ],
    )
    async def test_a_bad_signature_is_a_400_that_changes_nothing(
        self, stripe_api: StripeApi, case: str, header: str | None
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        stripe_api.fake.complete_checkout(started["session_id"])
        delivery = stripe_api.event("checkout.session.completed", started["session_id"])
        headers = {"content-type": "application/json"}
        if header is not None:
            headers["stripe-signature"] = (
                FakeStripe.sign(delivery.payload, "whsec_someone_else")
                if case == "other secret"
                else header
            )

        response = await stripe_api.api.client.post(
            "/webhooks/stripe/", content=delivery.payload, headers=headers
        )

        assert response.status_code == 400, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert (await stripe_api.subscription(tokens))["plan"] == "attendee"

    async def test_a_stale_signature_is_refused_as_a_replay(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        stripe_api.fake.complete_checkout(started["session_id"])
        delivery = stripe_api.fake.signed_event(
            "checkout.session.completed",
            started["session_id"],
            WEBHOOK_SECRET,
            timestamp=int(time.time()) - 301,
        )

        response = await stripe_api.api.client.post(
            "/webhooks/stripe/", content=delivery.payload, headers=delivery.headers
        )

        assert response.status_code == 400, response.text
        assert (await stripe_api.subscription(tokens))["plan"] == "attendee"

    async def test_a_redelivered_event_has_no_second_effect(
        self, stripe_api: StripeApi
    ) -> None:
        _, subscription_id = await self._paying(stripe_api)
        invoice = stripe_api.fake.create_invoice(subscription_id)
        failed = stripe_api.event("invoice.payment_failed", invoice["id"])
        mails_before = len(await stripe_api.api.wait_for_mails(1))

        first = await stripe_api.deliver(failed)
        mails = await stripe_api.api.wait_for_mails(mails_before + 1)
        second = await stripe_api.deliver(failed)
        await asyncio.sleep(0.2)

        assert (first["outcome"], second["outcome"]) == ("applied", "duplicate")
        assert len(stripe_api.api.mails()) == len(mails) == mails_before + 1
        assert "payment" in str(mails[-1]["subject"]).lower()

    async def test_updated_arriving_before_created_ends_in_stripes_latest_state(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        subscription = stripe_api.fake.complete_checkout(started["session_id"])
        created = stripe_api.event("customer.subscription.created", subscription["id"])
        stripe_api.fake.update_subscription(
            subscription["id"], cancel_at_period_end=True
        )
        updated = stripe_api.event("customer.subscription.updated", subscription["id"])

        outcomes = [
            (await stripe_api.deliver(updated))["outcome"],
            (await stripe_api.deliver(created))["outcome"],
        ]

        assert outcomes == ["applied", "applied"]
        shown = await stripe_api.subscription(tokens)
        assert (shown["plan"], shown["status"]) == ("organizer", "trialing")
        assert shown["cancel_at_period_end"] is True

    async def test_a_deleted_subscription_ends_the_organizer_role(
        self, stripe_api: StripeApi
    ) -> None:
        tokens, subscription_id = await self._paying(stripe_api)
        stripe_api.fake.update_subscription(subscription_id, status="canceled")

        receipt = await stripe_api.deliver(
            stripe_api.event("customer.subscription.deleted", subscription_id)
        )

        assert receipt["outcome"] == "applied"
        assert not await stripe_api.is_organizer(tokens)
        assert (await stripe_api.subscription(tokens))["plan"] == "attendee"

    async def test_an_event_type_it_does_not_handle_is_a_200(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)

        receipt = await stripe_api.deliver(
            stripe_api.event("checkout.session.expired", started["session_id"])
        )

        assert receipt == {"received": True, "outcome": "ignored"}

    async def test_trial_will_end_tells_the_owner_once(
        self, stripe_api: StripeApi
    ) -> None:
        _, subscription_id = await self._paying(stripe_api)
        before = len(await stripe_api.api.wait_for_mails(1))

        first = await stripe_api.deliver(
            stripe_api.event("customer.subscription.trial_will_end", subscription_id)
        )
        mails = await stripe_api.api.wait_for_mails(before + 1)
        again = await stripe_api.deliver(
            stripe_api.event("customer.subscription.trial_will_end", subscription_id)
        )
        await asyncio.sleep(0.2)

        assert (first["outcome"], again["outcome"]) == ("applied", "applied")
        assert len(stripe_api.api.mails()) == before + 1
        assert "trial" in str(mails[-1]["subject"]).lower()


class TestOneSubscriptionPerAccount:
    async def _pay(self, stripe_api: StripeApi, session_id: str) -> str:
        subscription = stripe_api.fake.complete_checkout(session_id)
        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", session_id)
        )
        return str(subscription["id"])

    async def test_paying_a_second_checkout_cancels_the_first_at_stripe(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        first = await stripe_api.start_checkout(tokens, "organizer")
        second = await stripe_api.start_checkout(tokens, "organizer_pro")

        first_id = await self._pay(stripe_api, first["session_id"])
        second_id = await self._pay(stripe_api, second["session_id"])

        assert stripe_api.fake.get(first_id)["status"] == "canceled"
        assert stripe_api.fake.get(second_id)["status"] == "trialing"
        cancels = [
            r
            for r in stripe_api.fake.requests
            if (r.method, r.path) == ("DELETE", f"/v1/subscriptions/{first_id}")
        ]
        assert [r.idempotency_key for r in cancels] == [f"supersede-{first_id}"]
        shown = await stripe_api.subscription(tokens)
        assert (shown["plan"], shown["status"]) == ("organizer_pro", "trialing")
        assert await stripe_api.is_organizer(tokens)

    async def test_a_second_checkout_is_refused_once_one_is_paid(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        first = await stripe_api.start_checkout(tokens, "organizer")
        stripe_api.fake.complete_checkout(first["session_id"])

        response = await stripe_api.api.client.post(
            "/api/v1/subscription/",
            json={"plan": "organizer_pro", "interval": "month"},
            headers=bearer(tokens),
        )

        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "already_subscribed"
        assert len(stripe_api.fake.checkout_requests("subscription")) == 1
        shown = await stripe_api.subscription(tokens)
        assert response.json()["subscription"] == shown["uuid"]
        assert (shown["plan"], shown["status"]) == ("organizer", "trialing")

    async def test_reconcile_cancels_a_superseded_subscription_left_live(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        first = await stripe_api.start_checkout(tokens, "organizer")
        second = await stripe_api.start_checkout(tokens, "organizer_pro")
        first_id = await self._pay(stripe_api, first["session_id"])
        stripe_api.fake.fail_next(3, path=f"/v1/subscriptions/{first_id}")

        second_id = await self._pay(stripe_api, second["session_id"])

        assert stripe_api.fake.get(first_id)["status"] == "trialing"
        platform = stripe_api.api.container.platform()
        summary = await platform.billing.reconcile()

        assert summary.changed >= 1
        assert stripe_api.fake.get(first_id)["status"] == "canceled"
        assert stripe_api.fake.get(second_id)["status"] == "trialing"
        shown = await stripe_api.subscription(tokens)
        assert shown["plan"] == "organizer_pro"
        again = await platform.billing.reconcile()
        assert again.changed == 0

    async def test_reconcile_applies_a_paid_subscription_whose_webhook_was_lost(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens, "organizer")
        stripe_api.fake.complete_checkout(started["session_id"])

        summary = await stripe_api.api.container.platform().billing.reconcile()

        assert summary.changed == 1
        shown = await stripe_api.subscription(tokens)
        assert (shown["plan"], shown["status"]) == ("organizer", "trialing")
        assert await stripe_api.is_organizer(tokens)


class TestPaymentMethods:
    async def test_the_card_paid_at_checkout_is_listed_as_the_default(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        subscription = stripe_api.fake.complete_checkout(started["session_id"])
        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )

        listed = await stripe_api.api.client.get(
            "/api/v1/payment-methods/", headers=bearer(tokens)
        )

        assert listed.status_code == 200, listed.text
        assert [(c["id"], c["is_default"]) for c in listed.json()] == [
            (subscription["default_payment_method"], True)
        ]

    async def test_a_new_default_card_is_the_one_the_subscription_charges(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        started = await stripe_api.start_checkout(tokens)
        subscription = stripe_api.fake.complete_checkout(started["session_id"])
        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", started["session_id"])
        )

        added = await stripe_api.api.client.post(
            "/api/v1/payment-methods/",
            json={"payment_method_id": "pm_card_mastercard", "make_default": True},
            headers=bearer(tokens),
        )
        listed = await stripe_api.api.client.get(
            "/api/v1/payment-methods/", headers=bearer(tokens)
        )

        assert added.status_code == 201, added.text
        new_card = added.json()["id"]
        assert [(c["id"], c["is_default"]) for c in listed.json()] == [
            (subscription["default_payment_method"], False),
            (new_card, True),
        ]
        stored = stripe_api.fake.get(subscription["id"])
        assert stored["default_payment_method"] == new_card


class TestTrials:
    async def test_a_second_checkout_after_a_downgrade_asks_for_no_trial(
        self, stripe_api: StripeApi
    ) -> None:
        tokens = await stripe_api.organizer()
        first = await stripe_api.start_checkout(tokens)
        subscription = stripe_api.fake.complete_checkout(first["session_id"])
        await stripe_api.deliver(
            stripe_api.event("checkout.session.completed", first["session_id"])
        )
        downgraded = await stripe_api.api.client.post(
            "/api/v1/users/me/downgrade/", headers=bearer(tokens)
        )
        assert downgraded.status_code == 200, downgraded.text
        assert stripe_api.fake.get(subscription["id"])["status"] == "canceled"

        second = await stripe_api.start_checkout(tokens)
        paid = stripe_api.fake.complete_checkout(second["session_id"])

        requests = stripe_api.fake.checkout_requests("subscription")
        trials = [
            r.params["subscription_data"].get("trial_period_days") for r in requests
        ]
        assert trials == ["14", None]
        assert paid["status"] == "active"
        assert paid["trial_end"] is None
