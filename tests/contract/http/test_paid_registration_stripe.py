"""Paid registrations over HTTP with Stripe payments.

The real app talks through the stripe SDK to the local fake of Stripe's API:
a paid registration holds its seat behind a payment-mode Checkout Session,
which the signed webhook or the confirm endpoint settles, in either order and
once; an expired or failed checkout, or a hold that runs out, passes the seat
to the waitlist.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.container import build_container
from adapters.http.app import create_app
from adapters.memory import ManualClock
from adapters.persistence import upgrade_database
from adapters.settings import load_settings
from platform_core import Platform
from tests.contract.http.conftest import Api, bearer, settings_env
from tests.contract.http.test_events import complete_body, create, publish
from tests.contract.http.test_registering import guest, register
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

PRICE = 2_500
HOLD = timedelta(minutes=15)


@dataclass
class PaidApi:
    api: Api
    fake: FakeStripe
    clock: ManualClock

    @property
    def platform(self) -> Platform:
        platform: Platform = self.api.container.platform()
        return platform

    async def organizer(self) -> dict[str, str]:
        """An account on the organizer plan, paid through Stripe Checkout."""
        tokens = await self.api.verified_user("ada@example.org")
        started = await self.api.client.post(
            "/api/v1/subscription/",
            json={"plan": "organizer", "interval": "month"},
            headers=bearer(tokens),
        )
        assert started.status_code == 201, started.text
        self.fake.complete_checkout(started.json()["session_id"])
        confirmed = await self.api.client.post(
            "/api/v1/subscription/confirm-checkout/",
            json={"session_id": started.json()["session_id"]},
            headers=bearer(tokens),
        )
        assert confirmed.status_code == 200, confirmed.text
        return tokens

    async def paid_event(self, **fields: Any) -> dict[str, Any]:
        tokens = await self.organizer()
        body = complete_body(
            price=PRICE, currency="EUR", capacity=1, waitlist_enabled=True, **fields
        )
        event = await create(self.api, tokens, **body)
        await publish(self.api, tokens, event["uuid"])
        event["tokens"] = tokens
        return event

    async def deliver(self, event_type: str, session_id: str) -> dict[str, Any]:
        """A new event about the session, signed and posted to the webhook."""
        return await self.post(
            self.fake.signed_event(event_type, session_id, WEBHOOK_SECRET)
        )

    async def post(self, delivery: SignedEvent) -> dict[str, Any]:
        response = await self.api.client.post(
            "/webhooks/stripe/", content=delivery.payload, headers=delivery.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def confirm(self, registration: dict[str, Any]) -> dict[str, Any]:
        response = await self.api.client.post(
            f"/api/v1/registrations/{registration['uuid']}/confirm-payment/"
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def statuses(self, event: dict[str, Any]) -> dict[str, str]:
        response = await self.api.client.get(
            f"/api/v1/events/{event['uuid']}/registrations/",
            headers=bearer(event["tokens"]),
        )
        assert response.status_code == 200, response.text
        return {row["email"]: row["status"] for row in response.json()["results"]}

    async def expire_holds(self) -> int:
        """Run the hold-expiry job in the test's loop, then let the mail tasks
        it started there finish before the app (on its own loop) is asked
        anything, as they hold SQLite's write lock while they run."""
        summary = await self.platform.registrations.expire_holds()
        current = asyncio.current_task()
        started = [task for task in asyncio.all_tasks() if task is not current]
        if started:
            await asyncio.wait(started, timeout=10)
        return summary.changed

    async def subjects_to(self, address: str) -> list[str]:
        await self.platform.outbox.drain()
        return [str(m["Subject"]) for m in self.api.mails() if m["To"] == address]


def session_of(registration: dict[str, Any]) -> str:
    """The Checkout Session id at the end of the registration's checkout URL."""
    url = registration["checkout_url"]
    assert isinstance(url, str)
    assert url.startswith("https://checkout.stripe.com/")
    return url.rsplit("/", 1)[-1]


@pytest.fixture
async def paid(tmp_path: Path, stripe_fake: FakeStripe) -> AsyncIterator[PaidApi]:
    add_prices(stripe_fake)
    settings = load_settings(
        settings_env(
            tmp_path,
            PLATFORM_PAYMENTS="stripe",
            PLATFORM_STRIPE_SECRET_KEY=SECRET_KEY,
            PLATFORM_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            PLATFORM_STRIPE_PRICES=",".join(f"{k}={v}" for k, v in PRICES.items()),
            PLATFORM_STRIPE_API_BASE=stripe_fake.api_base,
            PLATFORM_ACCESS_TOKEN_MINUTES="120",
        )
    )
    await asyncio.to_thread(upgrade_database, settings.resolved_database_url)
    container = build_container(settings)
    clock = ManualClock(datetime.now(UTC))
    container.clock.override(providers.Object(clock))
    async with AsyncTestClient(create_app(container)) as client:
        yield PaidApi(
            Api(client, container, settings.resolved_mail_outbox), stripe_fake, clock
        )


class TestPaidCheckout:
    async def test_the_webhook_confirms_a_paid_registration_once(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()

        held = await register(paid.api, event, guest(1))

        assert (held["status"], held["amount"], held["currency"]) == (
            "pending_payment",
            PRICE,
            "EUR",
        )
        session = session_of(held)
        (created,) = paid.fake.checkout_requests("payment")
        assert created.idempotency_key
        assert created.params["metadata"] == {"registration_id": held["uuid"]}
        assert created.params["line_items"][0]["price_data"]["unit_amount"] == str(
            PRICE
        )

        paid.fake.complete_payment(session)
        delivery = paid.fake.signed_event(
            "checkout.session.completed", session, WEBHOOK_SECRET
        )
        first = await paid.post(delivery)
        redelivered = await paid.post(delivery)
        another = await paid.deliver("checkout.session.completed", session)
        confirmed = await paid.confirm(held)

        assert first["outcome"] == "applied"
        assert redelivered["outcome"] == "duplicate"
        assert another["outcome"] == "ignored"
        assert confirmed["status"] == "confirmed"
        assert await paid.statuses(event) == {"guest1@example.org": "confirmed"}
        subjects = await paid.subjects_to("guest1@example.org")
        assert sum(s.startswith("You are registered") for s in subjects) == 1

    async def test_the_confirm_endpoint_before_the_webhook_confirms_once(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        session = session_of(held)

        early = await paid.confirm(held)
        paid.fake.complete_payment(session)
        confirmed = await paid.confirm(held)
        late = await paid.deliver("checkout.session.completed", session)

        assert early["status"] == "pending_payment"
        assert confirmed["status"] == "confirmed"
        assert late["outcome"] != "applied"
        subjects = await paid.subjects_to("guest1@example.org")
        assert sum(s.startswith("You are registered") for s in subjects) == 1


class TestSeatsPassedOn:
    async def test_an_expired_checkout_passes_the_seat_to_the_waitlist(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        waiting = await register(paid.api, event, guest(2))
        assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)

        paid.fake.expire_checkout(session_of(held))
        delivery = paid.fake.signed_event(
            "checkout.session.expired", session_of(held), WEBHOOK_SECRET
        )
        receipt = await paid.post(delivery)
        again = await paid.post(delivery)

        assert receipt["outcome"] == "applied"
        assert again["outcome"] == "duplicate"
        statuses = await paid.statuses(event)
        assert statuses["guest1@example.org"] == "cancelled"
        assert statuses["guest2@example.org"] == "pending_payment"
        assert len(paid.fake.checkout_requests("payment")) == 2

    async def test_a_failed_delayed_payment_passes_the_seat_on(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        await register(paid.api, event, guest(2))
        session = session_of(held)

        paid.fake.complete_payment(session, delayed=True)
        pending = await paid.deliver("checkout.session.completed", session)
        assert (await paid.statuses(event))["guest1@example.org"] == "pending_payment"
        paid.fake.settle_payment(session, succeeded=False)
        failed = await paid.deliver("checkout.session.async_payment_failed", session)

        assert pending["outcome"] != "applied"
        assert failed["outcome"] == "applied"
        statuses = await paid.statuses(event)
        assert statuses["guest1@example.org"] == "cancelled"
        assert statuses["guest2@example.org"] == "pending_payment"

    async def test_a_hold_that_runs_out_expires_its_checkout_at_stripe(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        await register(paid.api, event, guest(2))

        paid.clock.advance(HOLD + timedelta(seconds=1))
        released = await paid.expire_holds()

        assert released == 1
        assert paid.fake.get(session_of(held))["status"] == "expired"
        statuses = await paid.statuses(event)
        assert statuses["guest1@example.org"] == "cancelled"
        assert statuses["guest2@example.org"] == "pending_payment"

    async def test_a_payment_made_just_before_the_hold_ran_out_is_kept(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        waiting = await register(paid.api, event, guest(2))
        paid.fake.complete_payment(session_of(held))

        paid.clock.advance(HOLD + timedelta(seconds=1))
        await paid.expire_holds()

        statuses = await paid.statuses(event)
        assert statuses["guest1@example.org"] == "confirmed"
        assert statuses["guest2@example.org"] == "waitlisted"
        assert waiting["waitlist_position"] == 1
        assert len(paid.fake.checkout_requests("payment")) == 1

    async def test_a_payment_after_the_hold_ran_out_is_refunded_once(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        await register(paid.api, event, guest(2))
        session = session_of(held)
        paid.fake.fail_next(3, path=f"/v1/checkout/sessions/{session}/expire")
        paid.clock.advance(HOLD + timedelta(seconds=1))
        await paid.expire_holds()
        assert paid.fake.get(session)["status"] == "open"
        paid.fake.complete_payment(session)
        completed = paid.fake.signed_event(
            "checkout.session.completed", session, WEBHOOK_SECRET
        )

        first = await paid.post(completed)
        redelivered = await paid.post(completed)
        confirmed = await paid.confirm(held)

        assert (first["outcome"], redelivered["outcome"]) == ("applied", "duplicate")
        assert confirmed["status"] == "cancelled"
        [refund] = paid.fake.refunds_of(session)
        assert (refund["amount"], refund["currency"]) == (PRICE, "eur")
        assert refund["metadata"] == {"checkout_session": session}
        statuses = await paid.statuses(event)
        assert statuses["guest1@example.org"] == "cancelled"
        assert statuses["guest2@example.org"] == "pending_payment"
        subjects = await paid.subjects_to("guest1@example.org")
        assert subjects.count("Payment refunded: Cardiology update") == 1

    async def test_a_refund_stripe_cannot_take_now_is_a_503_and_retried(
        self, paid: PaidApi
    ) -> None:
        event = await paid.paid_event()
        held = await register(paid.api, event, guest(1))
        session = session_of(held)
        paid.fake.fail_next(3, path=f"/v1/checkout/sessions/{session}/expire")
        paid.clock.advance(HOLD + timedelta(seconds=1))
        await paid.expire_holds()
        paid.fake.complete_payment(session)
        completed = paid.fake.signed_event(
            "checkout.session.completed", session, WEBHOOK_SECRET
        )
        paid.fake.fail_next(3, path="/v1/refunds")

        refused = await paid.api.client.post(
            "/webhooks/stripe/", content=completed.payload, headers=completed.headers
        )
        retried = await paid.post(completed)

        assert refused.status_code == 503, refused.text
        assert retried["outcome"] == "applied"
        assert len(paid.fake.refunds_of(session)) == 1
