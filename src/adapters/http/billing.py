"""Billing endpoints: plans, the subscription, payment methods and provider webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.http.auth import SECURITY, provide_principal
from adapters.http.identity import Body
from adapters.http.openapi import problems
from platform_core import Platform
from platform_core.billing.model import Plan
from platform_core.billing.ports import PaymentCard, ProviderEventVerifier
from platform_core.billing.subscription import CheckoutStarted, SubscriptionView
from platform_core.identity.model import ClientInfo, Principal
from platform_core.shared.errors import FieldErrors


class PriceResponse(msgspec.Struct):
    interval: str
    amount: int
    currency: str


class PlanResponse(msgspec.Struct):
    code: str
    name: str
    prices: list[PriceResponse]
    trial_days: int
    capabilities: list[str]
    limits: dict[str, int | None]

    @classmethod
    def of(cls, plan: Plan) -> PlanResponse:
        return cls(
            code=plan.code,
            name=plan.name,
            prices=[
                PriceResponse(p.interval.value, p.amount, p.currency)
                for p in plan.prices
            ],
            trial_days=plan.trial_days,
            capabilities=sorted(c.value for c in plan.capabilities),
            limits={name.value: value for name, value in sorted(plan.limits.items())},
        )


class PlanController(Controller):
    path = "/api/v1/plans"
    tags = ["billing"]

    @get("/", summary="Every plan a person can choose")
    async def list_plans(
        self, platform: NamedDependency[Platform]
    ) -> list[PlanResponse]:
        return [PlanResponse.of(plan) for plan in await platform.billing.list_plans()]


class UsageResponse(msgspec.Struct):
    used: int
    limit: int | None
    resets_at: datetime


class SubscriptionResponse(msgspec.Struct, kw_only=True):
    uuid: UUID
    plan: str
    status: str
    interval: str
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    payments: str
    usage: dict[str, UsageResponse]

    @classmethod
    def fields_of(cls, view: SubscriptionView) -> dict[str, Any]:
        subscription = view.subscription
        return {
            "uuid": subscription.id,
            "plan": subscription.plan_code,
            "status": subscription.status.value,
            "interval": subscription.interval.value,
            "current_period_start": subscription.current_period_start,
            "current_period_end": subscription.current_period_end,
            "trial_end": subscription.trial_end,
            "cancel_at_period_end": subscription.cancel_at_period_end,
            "canceled_at": subscription.canceled_at,
            "payments": subscription.provider.value,
            "usage": {
                name: UsageResponse(line.used, line.limit, line.resets_at)
                for name, line in sorted(view.usage.items())
            },
        }

    @classmethod
    def of(cls, view: SubscriptionView) -> SubscriptionResponse:
        return cls(**cls.fields_of(view))


class CheckoutResponse(SubscriptionResponse, kw_only=True):
    """The subscription now in force, and the checkout to finish when one is needed."""

    checkout_url: str | None
    session_id: str | None

    @classmethod
    def started(cls, started: CheckoutStarted) -> CheckoutResponse:
        return cls(
            **cls.fields_of(started.view),
            checkout_url=started.checkout_url,
            session_id=started.session_id,
        )


class SubscribeRequest(Body):
    plan: str
    interval: str = "month"


class ChangePlanRequest(Body):
    plan: str | None = None
    interval: str | None = None


class ConfirmCheckoutRequest(Body):
    session_id: str


class SubscriptionController(Controller):
    path = "/api/v1/subscription"
    tags = ["billing"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get(
        "/", summary="My subscription and this period's usage", responses=problems(401)
    )
    async def show(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> SubscriptionResponse:
        return SubscriptionResponse.of(await platform.billing.subscription(principal))

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Start a plan; with Stripe, returns the checkout to finish",
        description=(
            "With local payments the plan (and its trial) starts at once and "
            "`checkout_url` is null. With Stripe a Checkout Session is created: "
            "send the person to `checkout_url`, then call confirm-checkout with "
            "`session_id` (or let the webhook do it)."
        ),
        responses=problems(400, 401, 409, 503),
    )
    async def subscribe(
        self,
        data: JSONBody[SubscribeRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> CheckoutResponse:
        started = await platform.billing.subscribe(
            principal, plan_code=data.plan, interval=data.interval, client=client
        )
        return CheckoutResponse.started(started)

    @post(
        "/confirm-checkout/",
        status_code=HTTP_200_OK,
        summary="Activate the subscription of a finished checkout",
        responses=problems(400, 401, 404, 409, 503),
    )
    async def confirm_checkout(
        self,
        data: JSONBody[ConfirmCheckoutRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> SubscriptionResponse:
        view = await platform.billing.confirm_checkout(
            principal, data.session_id, client=client
        )
        return SubscriptionResponse.of(view)

    @post(
        "/cancel/",
        status_code=HTTP_200_OK,
        summary="Cancel at the end of the current period",
        responses=problems(401, 409, 503),
    )
    async def cancel(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> SubscriptionResponse:
        return SubscriptionResponse.of(
            await platform.billing.cancel(principal, client=client)
        )

    @post(
        "/reactivate/",
        status_code=HTTP_200_OK,
        summary="Undo a cancellation before the period ends",
        description="Refused with 409 `not_canceling` when nothing is set to "
        "cancel, and with 409 `payment_method_required` when a subscription past "
        "its trial has no card left to renew with.",
        responses=problems(401, 409, 503),
    )
    async def reactivate(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> SubscriptionResponse:
        return SubscriptionResponse.of(
            await platform.billing.reactivate(principal, client=client)
        )

    @post(
        "/sync/",
        status_code=HTTP_200_OK,
        summary="Reconcile my subscription with the payment provider",
        responses=problems(401, 503),
    )
    async def sync(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> SubscriptionResponse:
        return SubscriptionResponse.of(await platform.billing.sync(principal))

    @post(
        "/{uuid:uuid}/",
        status_code=HTTP_200_OK,
        summary="Change plan or interval, prorated",
        responses=problems(400, 401, 404, 409, 503),
    )
    async def change(
        self,
        uuid: FromPath[UUID],
        data: JSONBody[ChangePlanRequest],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> SubscriptionResponse:
        if data.plan is None and data.interval is None:
            errors = FieldErrors()
            errors.add("plan", "required", "Give a plan, an interval or both.")
            errors.raise_if_any("Nothing to change.")
        view = await platform.billing.change_plan(
            principal,
            uuid,
            plan_code=data.plan,
            interval=data.interval,
            client=client,
        )
        return SubscriptionResponse.of(view)


class DowngradeController(Controller):
    path = "/api/v1/users/me/downgrade"
    tags = ["users"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @post(
        "/",
        status_code=HTTP_200_OK,
        summary="Back to the attendee plan; the subscription ends at once",
        responses=problems(401, 409, 503),
    )
    async def downgrade(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> SubscriptionResponse:
        return SubscriptionResponse.of(
            await platform.billing.downgrade(principal, client=client)
        )


class PaymentMethodResponse(msgspec.Struct):
    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool

    @classmethod
    def of(cls, card: PaymentCard) -> PaymentMethodResponse:
        return cls(
            card.id,
            card.brand,
            card.last4,
            card.exp_month,
            card.exp_year,
            card.is_default,
        )


class SetupIntentResponse(msgspec.Struct):
    setup_intent_id: str
    client_secret: str


class AddPaymentMethodRequest(Body):
    payment_method_id: str | None = None
    make_default: bool = False


class PaymentMethodController(Controller):
    path = "/api/v1/payment-methods"
    tags = ["billing"]
    cache_control = CacheControlHeader(no_store=True)
    dependencies = {"principal": Provide(provide_principal)}
    security = SECURITY

    @get("/", summary="My cards", responses=problems(401, 503))
    async def list_methods(
        self, platform: NamedDependency[Platform], principal: NamedDependency[Principal]
    ) -> list[PaymentMethodResponse]:
        cards = await platform.billing.payment_methods(principal)
        return [PaymentMethodResponse.of(card) for card in cards]

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        summary="Attach a card, or start collecting one with a SetupIntent",
        description=(
            "Without `payment_method_id`, creates a SetupIntent and returns its "
            "`client_secret` for the browser. With it, attaches that payment "
            "method; `make_default` makes it the default for invoices."
        ),
        responses=problems(400, 401, 404, 503),
    )
    async def add_method(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
        data: JSONBody[AddPaymentMethodRequest | None] = None,
    ) -> PaymentMethodResponse | SetupIntentResponse:
        if data is None or data.payment_method_id is None:
            intent = await platform.billing.setup_payment_method(principal)
            return SetupIntentResponse(intent.id, intent.client_secret)
        card = await platform.billing.add_payment_method(
            principal,
            data.payment_method_id,
            make_default=data.make_default,
            client=client,
        )
        return PaymentMethodResponse.of(card)

    @delete(
        "/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Detach a card named by the `payment_method_id` query parameter",
        responses=problems(400, 401, 404, 409, 503),
    )
    async def remove_by_query(
        self,
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
        payment_method_id: FromQuery[str | None] = None,
    ) -> None:
        if not payment_method_id:
            errors = FieldErrors()
            errors.add("payment_method_id", "required", "Name the card to detach.")
            errors.raise_if_any("Which card?")
            return
        await platform.billing.remove_payment_method(
            principal, payment_method_id, client=client
        )

    @delete(
        "/{payment_method_id:str}/",
        status_code=HTTP_204_NO_CONTENT,
        summary="Detach a card",
        responses=problems(401, 404, 409, 503),
    )
    async def remove(
        self,
        payment_method_id: FromPath[str],
        platform: NamedDependency[Platform],
        principal: NamedDependency[Principal],
        client: NamedDependency[ClientInfo],
    ) -> None:
        await platform.billing.remove_payment_method(
            principal, payment_method_id, client=client
        )


class WebhookReceipt(msgspec.Struct):
    received: bool
    outcome: str


class StripeWebhookController(Controller):
    path = "/webhooks/stripe"
    tags = ["webhooks"]

    @post(
        "/",
        status_code=HTTP_200_OK,
        summary="Stripe events, verified by their Stripe-Signature header",
        responses=problems(400, 503),
    )
    async def receive(
        self,
        request: Request[Any, Any, Any],
        platform: NamedDependency[Platform],
        stripe_events: NamedDependency[ProviderEventVerifier],
    ) -> WebhookReceipt:
        payload = await request.body()
        event = stripe_events.verify(payload, request.headers.get("stripe-signature"))
        handled = await platform.billing.handle_event(event)
        return WebhookReceipt(received=True, outcome=handled.outcome)
