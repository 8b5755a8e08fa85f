"""The payment gateway on Stripe, through the official SDK's async methods."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import stripe
import structlog

from adapters.stripe.objects import (
    account_id_from_metadata,
    id_of,
    mapping,
    timestamp,
    uuid_or_none,
)
from adapters.stripe.prices import StripePrices
from platform_core.billing.model import Interval, Plan
from platform_core.billing.ports import (
    CheckoutRequest,
    CheckoutSession,
    GatewaySubscription,
    Payment,
    PaymentCard,
    PaymentRequest,
    SetupIntent,
)
from platform_core.billing.subscription import Provider, SubscriptionStatus
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    FieldError,
    NotConfigured,
    NotFound,
    ProviderUnavailable,
    ValidationFailed,
)

log = structlog.get_logger(__name__)

STATUSES: Mapping[str, SubscriptionStatus] = {
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "incomplete_expired": SubscriptionStatus.CANCELED,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.INCOMPLETE,
}
"""Stripe's subscription statuses in the platform's terms."""

CARD_LIST_PAGE = 100
SUBSCRIPTION_LIST_PAGE = 100


def build_stripe_client(
    secret_key: str,
    *,
    api_base: str | None = None,
    max_network_retries: int = 2,
    timeout_seconds: float = 30.0,
    http_client: stripe.HTTPClient | None = None,
) -> stripe.StripeClient:
    """A StripeClient whose async methods run on HTTPX.

    `api_base` replaces `https://api.stripe.com`, which is how tests point the
    client at a local fake. The SDK retries connection failures, 409 and 5xx
    answers `max_network_retries` times, sending the same idempotency key.
    Pass your own `http_client` (a `stripe.HTTPXClient`) to close its
    connections yourself with `close_async()`; `timeout_seconds` applies only
    to the one made here.
    """
    if not secret_key.strip():
        raise ValueError("the Stripe secret key is empty")
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_network_retries,
        http_client=http_client or stripe.HTTPXClient(timeout=timeout_seconds),
    )


def _declined(error: stripe.CardError) -> ValidationFailed:
    message = error.user_message or "The card was declined."
    return ValidationFailed(
        "The card was declined.",
        errors=[FieldError("payment_method_id", "card_declined", str(message))],
    )


def _invalid_card(payment_method_id: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        "The payment method is not valid.",
        errors=[
            FieldError(
                "payment_method_id",
                "invalid",
                f"{payment_method_id!r} cannot be added: {reason}",
            )
        ],
    )


def _missing(error: stripe.InvalidRequestError) -> bool:
    return error.code == "resource_missing"


def _no_card() -> NotFound:
    return NotFound(
        "The customer has no such payment method.", resource="payment_method"
    )


def _no_subscription(subscription_id: str) -> NotFound:
    return NotFound(
        f"Stripe has no subscription {subscription_id!r}.", resource="subscription"
    )


@contextmanager
def _stripe_errors(operation: str) -> Iterator[None]:
    """Turns Stripe being unreachable or refusing the key into the core's errors.

    Errors about the request itself (invalid request, card errors) pass through
    for the caller to interpret.
    """
    try:
        yield
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        log.error(
            "stripe.credentials_refused",
            operation=operation,
            status=error.http_status,
            request_id=error.request_id,
        )
        raise NotConfigured(
            "Stripe refused the configured API key.", provider="stripe"
        ) from error
    except stripe.StripeError as error:
        unavailable = (
            isinstance(
                error,
                stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError,
            )
            or (error.http_status or 0) >= 500
        )
        if not unavailable:
            raise
        log.warning(
            "stripe.unavailable",
            operation=operation,
            error=type(error).__name__,
            status=error.http_status,
            request_id=error.request_id,
        )
        raise ProviderUnavailable(
            "Stripe could not be reached; try again shortly.", provider="stripe"
        ) from error


class StripeGateway:
    """PaymentGateway on Stripe Billing and Checkout.

    Every create call and every change of a subscription sends the caller's
    idempotency key, so a retried use case never creates or changes twice.
    """

    def __init__(
        self, client: stripe.StripeClient, prices: StripePrices, *, clock: Clock
    ) -> None:
        self._client = client
        self._prices = prices
        self._clock = clock

    @property
    def provider(self) -> Provider:
        return Provider.STRIPE

    # -- customers and checkout ----------------------------------------------

    async def create_customer(
        self, *, account_id: UUID, email: str, name: str, idempotency_key: str
    ) -> str:
        with _stripe_errors("customers.create"):
            customer = await self._client.v1.customers.create_async(
                params={
                    "email": email,
                    "name": name,
                    "metadata": {"account_id": str(account_id)},
                },
                options={"idempotency_key": idempotency_key},
            )
        log.info("stripe.customer.created", customer=customer.id)
        return customer.id

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        price_id = self._price(request.plan, request.interval)
        account = str(request.account_id)
        subscription_data: stripe.params.checkout.SessionCreateParamsSubscriptionData
        subscription_data = {"metadata": {"account_id": account}}
        if request.trial_days > 0:
            subscription_data["trial_period_days"] = request.trial_days
            subscription_data["trial_settings"] = {
                "end_behavior": {"missing_payment_method": "cancel"}
            }
        with _stripe_errors("checkout.sessions.create"):
            session = await self._client.v1.checkout.sessions.create_async(
                params={
                    "mode": "subscription",
                    "customer": request.customer_id,
                    "client_reference_id": account,
                    "line_items": [{"price": price_id, "quantity": 1}],
                    "subscription_data": subscription_data,
                    "metadata": {"account_id": account},
                    "success_url": request.success_url,
                    "cancel_url": request.cancel_url,
                },
                options={"idempotency_key": request.idempotency_key},
            )
        log.info(
            "stripe.checkout.created",
            session=session.id,
            customer=request.customer_id,
            plan=request.plan.code,
            interval=request.interval.value,
        )
        return await self._checkout(session.to_dict())

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession | None:
        if not session_id:
            return None
        try:
            with _stripe_errors("checkout.sessions.retrieve"):
                session = await self._client.v1.checkout.sessions.retrieve_async(
                    session_id, params={"expand": ["subscription"]}
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                return None
            raise
        return await self._checkout(session.to_dict())

    # -- one-time payments ---------------------------------------------------

    async def start_payment(self, request: PaymentRequest) -> Payment:
        """A Checkout Session in payment mode for one line priced inline."""
        reference = str(request.reference)
        with _stripe_errors("checkout.sessions.create"):
            session = await self._client.v1.checkout.sessions.create_async(
                params={
                    "mode": "payment",
                    "customer_email": request.email,
                    "client_reference_id": reference,
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": request.currency.lower(),
                                "unit_amount": request.amount,
                                "product_data": {"name": request.description},
                            },
                        }
                    ],
                    "metadata": {"registration_id": reference},
                    "payment_intent_data": {"metadata": {"registration_id": reference}},
                    "success_url": request.success_url,
                    "cancel_url": request.cancel_url,
                },
                options={"idempotency_key": request.idempotency_key},
            )
        log.info(
            "stripe.payment.created", session=session.id, registration_id=reference
        )
        return _payment(session.to_dict())

    async def retrieve_payment(self, payment_id: str) -> Payment | None:
        session = await self._payment_session(payment_id)
        return None if session is None else _payment(session)

    async def _payment_session(self, payment_id: str) -> Mapping[str, Any] | None:
        if not payment_id:
            return None
        try:
            with _stripe_errors("checkout.sessions.retrieve"):
                session = await self._client.v1.checkout.sessions.retrieve_async(
                    payment_id
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                return None
            raise
        data: Mapping[str, Any] = session.to_dict()
        return data

    async def expire_payment(self, payment_id: str) -> Payment | None:
        """Expire the Checkout Session; one that is no longer open is returned as is."""
        if not payment_id:
            return None
        try:
            with _stripe_errors("checkout.sessions.expire"):
                session = await self._client.v1.checkout.sessions.expire_async(
                    payment_id
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                return None
            log.info(
                "stripe.payment.not_expired",
                session=payment_id,
                request_id=error.request_id,
            )
            return await self.retrieve_payment(payment_id)
        log.info("stripe.payment.expired", session=payment_id)
        return _payment(session.to_dict())

    async def refund_payment(self, payment_id: str) -> bool:
        """Refund the session's PaymentIntent in full.

        The idempotency key makes a retry return the first refund; after it
        expires, Stripe refuses a second refund as `charge_already_refunded`,
        which counts as done.
        """
        data = await self._payment_session(payment_id)
        if data is None:
            return False
        intent = data.get("payment_intent")
        if isinstance(intent, Mapping):
            intent = intent.get("id")
        if data.get("payment_status") != "paid" or not isinstance(intent, str):
            return False
        try:
            with _stripe_errors("refunds.create"):
                refund = await self._client.v1.refunds.create_async(
                    params={
                        "payment_intent": intent,
                        "metadata": {"checkout_session": payment_id},
                    },
                    options={"idempotency_key": f"refund:{payment_id}"},
                )
        except stripe.InvalidRequestError as error:
            if error.code != "charge_already_refunded":
                raise
            log.info("stripe.payment.already_refunded", session=payment_id)
            return True
        log.info("stripe.payment.refunded", session=payment_id, refund=refund.id)
        return True

    # -- subscriptions -------------------------------------------------------

    async def retrieve_subscription(
        self, current: GatewaySubscription
    ) -> GatewaySubscription | None:
        if not current.id:
            return None
        try:
            return await self._fetch_subscription(current.id)
        except NotFound:
            return None

    async def change_plan(
        self,
        current: GatewaySubscription,
        plan: Plan,
        interval: Interval,
        *,
        idempotency_key: str,
    ) -> GatewaySubscription:
        price_id = self._price(plan, interval)
        item_id = current.item_id
        if item_id is None:
            item_id = (await self._fetch_subscription(current.id)).item_id
        if item_id is None:
            raise _no_subscription(current.id)
        try:
            with _stripe_errors("subscriptions.update"):
                updated = await self._client.v1.subscriptions.update_async(
                    current.id,
                    params={
                        "items": [{"id": item_id, "price": price_id}],
                        "proration_behavior": "create_prorations",
                    },
                    options={"idempotency_key": idempotency_key},
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                raise _no_subscription(current.id) from error
            raise
        log.info(
            "stripe.subscription.plan_changed",
            subscription=current.id,
            plan=plan.code,
            interval=interval.value,
        )
        return self._subscription(updated.to_dict())

    async def set_cancel_at_period_end(
        self, current: GatewaySubscription, cancel: bool, *, idempotency_key: str
    ) -> GatewaySubscription:
        try:
            with _stripe_errors("subscriptions.update"):
                updated = await self._client.v1.subscriptions.update_async(
                    current.id,
                    params={"cancel_at_period_end": cancel},
                    options={"idempotency_key": idempotency_key},
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                raise _no_subscription(current.id) from error
            raise
        log.info(
            "stripe.subscription.cancel_at_period_end",
            subscription=current.id,
            cancel=cancel,
        )
        return self._subscription(updated.to_dict())

    async def cancel_now(
        self, current: GatewaySubscription, *, idempotency_key: str
    ) -> GatewaySubscription:
        """Cancel at once; a subscription Stripe already ended is returned as it is.

        Stripe answers a change to a canceled subscription with "No such
        subscription" while still showing it, so a retried cancellation reads
        the subscription before giving up.
        """
        try:
            with _stripe_errors("subscriptions.cancel"):
                canceled = await self._client.v1.subscriptions.cancel_async(
                    current.id, options={"idempotency_key": idempotency_key}
                )
        except stripe.InvalidRequestError as error:
            state = await self.retrieve_subscription(current)
            if state is None:
                raise _no_subscription(current.id) from error
            if state.status is not SubscriptionStatus.CANCELED:
                raise
            log.info("stripe.subscription.already_canceled", subscription=current.id)
            return state
        log.info("stripe.subscription.canceled", subscription=current.id)
        return self._subscription(canceled.to_dict())

    async def live_subscriptions(
        self, customer_id: str
    ) -> Sequence[GatewaySubscription]:
        """Stripe lists the subscriptions it has not canceled, newest first."""
        if not customer_id:
            return []
        found: list[GatewaySubscription] = []
        after: str | None = None
        while True:
            params: stripe.params.SubscriptionListParams = {
                "customer": customer_id,
                "limit": SUBSCRIPTION_LIST_PAGE,
            }
            if after:
                params["starting_after"] = after
            try:
                with _stripe_errors("subscriptions.list"):
                    page = await self._client.v1.subscriptions.list_async(params=params)
            except stripe.InvalidRequestError as error:
                if _missing(error):
                    return []
                raise
            data = page.to_dict()
            batch = [mapping(item) for item in data.get("data") or []]
            found.extend(self._subscription(item) for item in batch)
            if not data.get("has_more") or not batch:
                break
            after = id_of(batch[-1])
        return [s for s in found if s.status is not SubscriptionStatus.CANCELED]

    # -- cards ---------------------------------------------------------------

    async def list_cards(self, customer_id: str) -> Sequence[PaymentCard]:
        """The customer's cards, oldest first, with the default marked.

        The default is the customer's invoice default or, when it has none, the
        default of its live subscription: Checkout sets only the latter.
        Stripe lists newest first; reversing before the stable sort by creation
        keeps cards made in the same second in attach order.
        """
        customer = await self._customer(customer_id)
        if customer.get("deleted"):
            return []
        default = await self._default_card(customer_id, customer)
        methods: list[Mapping[str, Any]] = []
        after: str | None = None
        while True:
            params: stripe.params.CustomerPaymentMethodListParams = {
                "type": "card",
                "limit": CARD_LIST_PAGE,
            }
            if after:
                params["starting_after"] = after
            with _stripe_errors("customers.payment_methods.list"):
                page = await self._client.v1.customers.payment_methods.list_async(
                    customer_id, params=params
                )
            data = page.to_dict()
            batch = [mapping(item) for item in data.get("data") or []]
            methods.extend(batch)
            if not data.get("has_more") or not batch:
                break
            after = id_of(batch[-1])
        methods.reverse()
        methods.sort(key=lambda method: method.get("created") or 0)
        return [
            self._card(method, is_default=method.get("id") == default)
            for method in methods
        ]

    async def create_setup_intent(
        self, customer_id: str, *, idempotency_key: str
    ) -> SetupIntent:
        with _stripe_errors("setup_intents.create"):
            intent = await self._client.v1.setup_intents.create_async(
                params={
                    "customer": customer_id,
                    "usage": "off_session",
                    "allowed_payment_method_types": ["card"],
                },
                options={"idempotency_key": idempotency_key},
            )
        log.info("stripe.setup_intent.created", setup_intent=intent.id)
        return SetupIntent(id=intent.id, client_secret=intent.client_secret or "")

    async def attach_card(
        self, customer_id: str, payment_method_id: str, *, make_default: bool
    ) -> PaymentCard:
        """Attach the card; it becomes the default when asked or when there is none.

        A new default becomes the customer's invoice default and the default of
        its live subscriptions that named another card, which Stripe would
        otherwise keep charging.
        """
        customer = await self._customer(customer_id)
        if customer.get("deleted"):
            raise NotFound("Stripe has no such customer.", resource="customer")
        current_default = await self._default_card(customer_id, customer)
        try:
            with _stripe_errors("payment_methods.attach"):
                attached = await self._client.v1.payment_methods.attach_async(
                    payment_method_id, params={"customer": customer_id}
                )
        except stripe.CardError as error:
            log.info("stripe.card.declined", customer=customer_id, code=error.code)
            raise _declined(error) from error
        except stripe.InvalidRequestError as error:
            if _missing(error) and error.param == "customer":
                raise NotFound(
                    "Stripe has no such customer.", resource="customer"
                ) from error
            raise _invalid_card(
                payment_method_id, error.user_message or "Stripe refused it."
            ) from error
        method = attached.to_dict()
        card_id = attached.id
        is_default = make_default or current_default is None
        if is_default:
            with _stripe_errors("customers.update"):
                await self._client.v1.customers.update_async(
                    customer_id,
                    params={"invoice_settings": {"default_payment_method": card_id}},
                )
            for subscription in await self.live_subscriptions(customer_id):
                if subscription.default_payment_method in (None, card_id):
                    continue
                try:
                    with _stripe_errors("subscriptions.update"):
                        await self._client.v1.subscriptions.update_async(
                            subscription.id,
                            params={"default_payment_method": card_id},
                        )
                except stripe.InvalidRequestError as error:
                    log.info(
                        "stripe.subscription.default_not_changed",
                        subscription=subscription.id,
                        request_id=error.request_id,
                    )
        log.info(
            "stripe.card.attached",
            customer=customer_id,
            payment_method=card_id,
            default=is_default,
        )
        return self._card(method, is_default=is_default)

    async def detach_card(self, customer_id: str, payment_method_id: str) -> None:
        """Detach a card of this customer; any other card is NotFound."""
        if not payment_method_id:
            raise _no_card()
        try:
            with _stripe_errors("payment_methods.retrieve"):
                method = await self._client.v1.payment_methods.retrieve_async(
                    payment_method_id
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                raise _no_card() from error
            raise
        if id_of(method.to_dict().get("customer")) != customer_id:
            raise _no_card()
        try:
            with _stripe_errors("payment_methods.detach"):
                await self._client.v1.payment_methods.detach_async(payment_method_id)
        except stripe.InvalidRequestError as error:
            if _missing(error):
                raise _no_card() from error
            raise
        log.info(
            "stripe.card.detached",
            customer=customer_id,
            payment_method=payment_method_id,
        )

    # -- reading Stripe objects ----------------------------------------------

    def _price(self, plan: Plan, interval: Interval) -> str:
        price_id = self._prices.price_id(plan.code, interval)
        if price_id is None:
            raise NotConfigured(
                f"No Stripe price is configured for {plan.code}:{interval.value}.",
                plan=plan.code,
                interval=interval.value,
            )
        return price_id

    async def _customer(self, customer_id: str) -> Mapping[str, Any]:
        if not customer_id:
            raise NotFound("Stripe has no such customer.", resource="customer")
        try:
            with _stripe_errors("customers.retrieve"):
                customer = await self._client.v1.customers.retrieve_async(customer_id)
        except stripe.InvalidRequestError as error:
            if _missing(error):
                raise NotFound(
                    "Stripe has no such customer.", resource="customer"
                ) from error
            raise
        return customer.to_dict()

    async def _default_card(
        self, customer_id: str, customer: Mapping[str, Any]
    ) -> str | None:
        """The invoice default, else the default of the newest live subscription."""
        default = id_of(
            mapping(customer.get("invoice_settings")).get("default_payment_method")
        )
        if default:
            return default
        for subscription in await self.live_subscriptions(customer_id):
            if subscription.default_payment_method:
                return subscription.default_payment_method
        return None

    async def _fetch_subscription(self, subscription_id: str) -> GatewaySubscription:
        if not subscription_id:
            raise _no_subscription(subscription_id)
        try:
            with _stripe_errors("subscriptions.retrieve"):
                found = await self._client.v1.subscriptions.retrieve_async(
                    subscription_id
                )
        except stripe.InvalidRequestError as error:
            if _missing(error):
                raise _no_subscription(subscription_id) from error
            raise
        return self._subscription(found.to_dict())

    async def _checkout(self, data: Mapping[str, Any]) -> CheckoutSession:
        reference = data.get("subscription")
        subscription: GatewaySubscription | None = None
        if isinstance(reference, Mapping):
            subscription = self._subscription(reference)
        elif isinstance(reference, str) and reference:
            subscription = await self._fetch_subscription(reference)
        return CheckoutSession(
            id=str(data.get("id")),
            url=data.get("url"),
            complete=data.get("status") == "complete",
            account_id=uuid_or_none(data.get("client_reference_id"))
            or account_id_from_metadata(data.get("metadata")),
            subscription=subscription,
        )

    def _subscription(self, data: Mapping[str, Any]) -> GatewaySubscription:
        items = mapping(data.get("items")).get("data") or []
        item = mapping(items[0]) if items else {}
        start = self._period_edge(item, data, "current_period_start")
        start = start or self._clock.now()
        end = self._period_edge(item, data, "current_period_end") or start
        price_id = id_of(item.get("price"))
        plan = self._prices.plan_for(price_id) if price_id else None
        raw_status = str(data.get("status"))
        status = STATUSES.get(raw_status)
        if status is None:
            log.warning(
                "stripe.subscription.unknown_status",
                subscription=data.get("id"),
                status=raw_status,
            )
            status = SubscriptionStatus.INCOMPLETE
        return GatewaySubscription(
            id=str(data.get("id")),
            customer_id=id_of(data.get("customer")) or "",
            status=status,
            current_period_start=start,
            current_period_end=end,
            plan_code=plan[0] if plan else None,
            interval=plan[1] if plan else None,
            item_id=id_of(item),
            trial_end=timestamp(data.get("trial_end")),
            cancel_at_period_end=bool(data.get("cancel_at_period_end")),
            canceled_at=timestamp(data.get("canceled_at")),
            ended_at=timestamp(data.get("ended_at")),
            account_id=account_id_from_metadata(data.get("metadata")),
            default_payment_method=id_of(data.get("default_payment_method")),
        )

    @staticmethod
    def _period_edge(
        item: Mapping[str, Any], subscription: Mapping[str, Any], name: str
    ) -> datetime | None:
        """Periods live on the item since API 2025-03-31, on the subscription before."""
        return timestamp(item.get(name)) or timestamp(subscription.get(name))

    @staticmethod
    def _card(method: Mapping[str, Any], *, is_default: bool) -> PaymentCard:
        card = mapping(method.get("card"))
        return PaymentCard(
            id=str(method.get("id")),
            brand=str(card.get("brand") or "unknown"),
            last4=str(card.get("last4") or ""),
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
            is_default=is_default,
        )


def _payment(data: Mapping[str, Any]) -> Payment:
    """A payment-mode session; paid once complete with its payment collected.

    Only the metadata names the registration: a subscription checkout's
    client reference is an account id and must never be taken for one.
    """
    amount = data.get("amount_total")
    currency = data.get("currency")
    return Payment(
        id=str(data.get("id")),
        url=data.get("url"),
        complete=data.get("status") == "complete"
        and data.get("payment_status") in ("paid", "no_payment_required"),
        reference=uuid_or_none(mapping(data.get("metadata")).get("registration_id")),
        amount=amount if isinstance(amount, int) else None,
        currency=currency.upper() if isinstance(currency, str) else None,
        expired=data.get("status") == "expired",
    )
