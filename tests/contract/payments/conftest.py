"""Both payment gateways behind one harness, and the fake Stripe server.

`harness` runs a test once with the local gateway and once with the Stripe
gateway talking through the real SDK to the fake Stripe server, whose clock is
frozen at the harness clock so both stamp the same instants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
import stripe

from adapters.memory import ManualClock
from adapters.memory.payments import LocalPaymentGateway
from adapters.stripe import StripeGateway, StripePrices, build_stripe_client
from platform_core.billing.model import Interval, Plan, Price
from platform_core.billing.ports import (
    CheckoutRequest,
    CheckoutSession,
    PaymentGateway,
)
from tests.fakes.stripe_server import FakeStripe, stripe_fake, stripe_fake_server

__all__ = ["stripe_fake", "stripe_fake_server"]

SDK_WARNINGS = pytest.mark.filterwarnings(
    # The SDK hands HTTPX the form body as `data=`, which HTTPX deprecates.
    "ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"
)
"""Mark modules whose tests call Stripe through the SDK with this."""

SECRET_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_test_fake_0123456789"
PRICES = {
    "organizer:month": "price_organizer_month",
    "organizer:year": "price_organizer_year",
    "organizer_pro:month": "price_organizer_pro_month",
    "organizer_pro:year": "price_organizer_pro_year",
}
ORGANIZER = Plan(
    code="organizer",
    name="Organizer",
    prices=(Price(Interval.MONTH, 2900, "EUR"), Price(Interval.YEAR, 29000, "EUR")),
)
ORGANIZER_PRO = Plan(
    code="organizer_pro",
    name="Organizer Pro",
    prices=(Price(Interval.MONTH, 7900, "EUR"), Price(Interval.YEAR, 79000, "EUR")),
    trial_days=14,
)


def add_prices(fake: FakeStripe) -> None:
    """Every price of PRICES, at the interval its key names."""
    for key, price_id in PRICES.items():
        fake.add_price(price_id, interval=key.split(":")[1])


@dataclass
class Harness:
    """A gateway, its clock, and how a person finishes a checkout outside the API."""

    name: str
    gateway: PaymentGateway
    clock: ManualClock
    finish_checkout: Callable[[CheckoutSession], Awaitable[None]]
    fake: FakeStripe | None = None

    async def customer(self, account_id: UUID | None = None) -> str:
        return await self.gateway.create_customer(
            account_id=account_id or uuid4(),
            email="ada@example.org",
            name="Ada Lovelace",
            idempotency_key=f"customer-{uuid4()}",
        )

    def checkout_request(
        self,
        account_id: UUID,
        customer_id: str,
        *,
        plan: Plan = ORGANIZER,
        interval: Interval = Interval.MONTH,
        trial_days: int = 0,
        idempotency_key: str | None = None,
    ) -> CheckoutRequest:
        return CheckoutRequest(
            account_id=account_id,
            customer_id=customer_id,
            plan=plan,
            interval=interval,
            trial_days=trial_days,
            success_url="https://app.test/billing/done?session={CHECKOUT_SESSION_ID}",
            cancel_url="https://app.test/billing",
            idempotency_key=idempotency_key or f"checkout-{uuid4()}",
        )


def stripe_gateway(
    fake: FakeStripe,
    http_client: stripe.HTTPClient,
    clock: ManualClock,
    *,
    max_network_retries: int = 0,
    secret_key: str = SECRET_KEY,
    prices: StripePrices | None = None,
) -> StripeGateway:
    client = build_stripe_client(
        secret_key,
        api_base=fake.api_base,
        max_network_retries=max_network_retries,
        http_client=http_client,
    )
    return StripeGateway(client, prices or StripePrices(PRICES), clock=clock)


@pytest.fixture
async def http_client() -> AsyncIterator[stripe.HTTPXClient]:
    """The SDK's HTTPX client, closed after the test."""
    client = stripe.HTTPXClient(timeout=10)
    yield client
    await client.close_async()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(stripe_fake: FakeStripe, clock: ManualClock) -> FakeStripe:
    """The fake Stripe server with PRICES, frozen at the test clock."""
    add_prices(stripe_fake)
    stripe_fake.freeze_time(clock.now())
    return stripe_fake


@pytest.fixture(params=["local", "stripe"])
def harness(request: pytest.FixtureRequest, clock: ManualClock) -> Harness:
    if request.param == "local":

        async def already_complete(session: CheckoutSession) -> None:
            assert session.complete

        return Harness("local", LocalPaymentGateway(clock), clock, already_complete)

    fake: FakeStripe = request.getfixturevalue("fake")
    http_client: stripe.HTTPXClient = request.getfixturevalue("http_client")

    async def pay(session: CheckoutSession) -> None:
        fake.complete_checkout(session.id)

    return Harness("stripe", stripe_gateway(fake, http_client, clock), clock, pay, fake)
