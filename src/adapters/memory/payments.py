"""A payment gateway that never leaves the machine, for development and tests.

Checkouts complete at once, the platform keeps the subscriptions' truth, and
cards are Stripe's documented test PaymentMethod tokens (`pm_card_visa`, ...),
so the same tokens work against the local gateway and a Stripe test account.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from uuid import UUID

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
from platform_core.billing.subscription import (
    Provider,
    SubscriptionStatus,
    add_months,
    interval_months,
)
from platform_core.shared.clock import Clock
from platform_core.shared.errors import FieldError, NotFound, ValidationFailed

TEST_CARDS: dict[str, tuple[str, str]] = {
    "pm_card_visa": ("visa", "4242"),
    "pm_card_visa_debit": ("visa", "5556"),
    "pm_card_mastercard": ("mastercard", "4444"),
    "pm_card_mastercard_debit": ("mastercard", "8210"),
    "pm_card_mastercard_prepaid": ("mastercard", "5100"),
    "pm_card_amex": ("amex", "8431"),
    "pm_card_discover": ("discover", "1117"),
    "pm_card_diners": ("diners", "0004"),
    "pm_card_jcb": ("jcb", "0505"),
    "pm_card_unionpay": ("unionpay", "0005"),
    "pm_card_chargeCustomerFail": ("visa", "0341"),
}
"""Stripe's test PaymentMethod tokens that attach to a customer: brand and last4."""

DECLINED_CARDS: frozenset[str] = frozenset(
    {
        "pm_card_chargeDeclined",
        "pm_card_visa_chargeDeclined",
        "pm_card_chargeDeclinedInsufficientFunds",
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        "pm_card_chargeDeclinedLostCard",
        "pm_card_visa_chargeDeclinedLostCard",
        "pm_card_chargeDeclinedStolenCard",
        "pm_card_visa_chargeDeclinedStolenCard",
        "pm_card_chargeDeclinedExpiredCard",
        "pm_card_chargeDeclinedIncorrectCvc",
        "pm_card_chargeDeclinedProcessingError",
        "pm_card_chargeDeclinedFraudulent",
    }
)
"""Stripe's test tokens whose card is declined when attached to a customer."""


def _local_id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(12)}"


def card_declined() -> ValidationFailed:
    return ValidationFailed(
        "The card was declined.",
        errors=[
            FieldError("payment_method_id", "card_declined", "The card was declined.")
        ],
    )


def invalid_payment_method(payment_method_id: str) -> ValidationFailed:
    return ValidationFailed(
        "The payment method is not valid.",
        errors=[
            FieldError(
                "payment_method_id",
                "invalid",
                f"{payment_method_id!r} is not a payment method that can be added.",
            )
        ],
    )


@dataclass(slots=True)
class _Wallet:
    """One customer's cards in attach order, and which is the default."""

    cards: list[PaymentCard] = field(default_factory=list)
    default: str | None = None


class LocalPaymentGateway:
    """The local payment provider: checkouts complete at once, nothing is charged.

    Every create call honours its idempotency key like Stripe does: the same
    key gives back the first answer.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sessions: dict[str, CheckoutSession] = {}
        self._payments: dict[str, Payment] = {}
        self.refunded: set[str] = set()
        self._wallets: dict[str, _Wallet] = {}
        self._replies: dict[str, object] = {}

    @property
    def provider(self) -> Provider:
        return Provider.LOCAL

    async def create_customer(
        self, *, account_id: UUID, email: str, name: str, idempotency_key: str
    ) -> str:
        earlier = self._replies.get(idempotency_key)
        if isinstance(earlier, str):
            return earlier
        customer_id = _local_id("cus")
        self._wallets[customer_id] = _Wallet()
        self._replies[idempotency_key] = customer_id
        return customer_id

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        earlier = self._replies.get(request.idempotency_key)
        if isinstance(earlier, CheckoutSession):
            return earlier
        now = self._clock.now()
        if request.trial_days > 0:
            status = SubscriptionStatus.TRIALING
            trial_end = now + timedelta(days=request.trial_days)
            period_end = trial_end
        else:
            status = SubscriptionStatus.ACTIVE
            trial_end = None
            period_end = add_months(now, interval_months(request.interval))
        subscription = GatewaySubscription(
            id=_local_id("sub"),
            customer_id=request.customer_id,
            status=status,
            current_period_start=now,
            current_period_end=period_end,
            plan_code=request.plan.code,
            interval=request.interval,
            item_id=_local_id("si"),
            trial_end=trial_end,
            account_id=request.account_id,
            default_payment_method=self._wallet(request.customer_id).default,
        )
        session = CheckoutSession(
            id=_local_id("cs"),
            url=None,
            complete=True,
            account_id=request.account_id,
            subscription=subscription,
        )
        self._sessions[session.id] = session
        self._replies[request.idempotency_key] = session
        return session

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession | None:
        return self._sessions.get(session_id)

    async def start_payment(self, request: PaymentRequest) -> Payment:
        """A payment that is complete at once; nothing is charged."""
        earlier = self._replies.get(request.idempotency_key)
        if isinstance(earlier, Payment):
            return earlier
        payment = Payment(
            id=_local_id("cs"),
            url=None,
            complete=True,
            reference=request.reference,
            amount=request.amount,
            currency=request.currency.upper(),
        )
        self._payments[payment.id] = payment
        self._replies[request.idempotency_key] = payment
        return payment

    async def retrieve_payment(self, payment_id: str) -> Payment | None:
        return self._payments.get(payment_id)

    async def expire_payment(self, payment_id: str) -> Payment | None:
        """Local payments are complete at once, so there is nothing to end."""
        return self._payments.get(payment_id)

    async def refund_payment(self, payment_id: str) -> bool:
        """Nothing was charged, so a refund only marks the payment refunded."""
        payment = await self.retrieve_payment(payment_id)
        if payment is None or not payment.complete:
            return False
        self.refunded.add(payment_id)
        return True

    async def retrieve_subscription(
        self, current: GatewaySubscription
    ) -> GatewaySubscription | None:
        """The platform keeps local subscriptions' truth, so `current` is the answer."""
        return current

    async def change_plan(
        self,
        current: GatewaySubscription,
        plan: Plan,
        interval: Interval,
        *,
        idempotency_key: str,
    ) -> GatewaySubscription:
        """The new plan and interval; the period and status stay as they are."""
        return replace(current, plan_code=plan.code, interval=interval)

    async def set_cancel_at_period_end(
        self, current: GatewaySubscription, cancel: bool, *, idempotency_key: str
    ) -> GatewaySubscription:
        return replace(current, cancel_at_period_end=cancel)

    async def cancel_now(
        self, current: GatewaySubscription, *, idempotency_key: str
    ) -> GatewaySubscription:
        now = self._clock.now()
        return replace(
            current,
            status=SubscriptionStatus.CANCELED,
            canceled_at=now,
            ended_at=now,
            cancel_at_period_end=False,
        )

    async def live_subscriptions(
        self, customer_id: str
    ) -> Sequence[GatewaySubscription]:
        """None: the platform keeps local subscriptions, this gateway keeps none."""
        return []

    async def list_cards(self, customer_id: str) -> Sequence[PaymentCard]:
        wallet = self._wallet(customer_id)
        return [
            replace(card, is_default=card.id == wallet.default) for card in wallet.cards
        ]

    async def create_setup_intent(
        self, customer_id: str, *, idempotency_key: str
    ) -> SetupIntent:
        earlier = self._replies.get(idempotency_key)
        if isinstance(earlier, SetupIntent):
            return earlier
        intent_id = _local_id("seti")
        intent = SetupIntent(intent_id, f"{intent_id}_secret_{secrets.token_hex(12)}")
        self._replies[idempotency_key] = intent
        return intent

    async def attach_card(
        self, customer_id: str, payment_method_id: str, *, make_default: bool
    ) -> PaymentCard:
        """A new card from a Stripe test token; declined tokens are refused."""
        if payment_method_id in DECLINED_CARDS:
            raise card_declined()
        test_card = TEST_CARDS.get(payment_method_id)
        if test_card is None:
            raise invalid_payment_method(payment_method_id)
        brand, last4 = test_card
        wallet = self._wallet(customer_id)
        card = PaymentCard(
            id=_local_id("pm"),
            brand=brand,
            last4=last4,
            exp_month=12,
            exp_year=self._clock.now().year + 3,
        )
        wallet.cards.append(card)
        if make_default or wallet.default is None:
            wallet.default = card.id
        return replace(card, is_default=wallet.default == card.id)

    async def detach_card(self, customer_id: str, payment_method_id: str) -> None:
        wallet = self._wallet(customer_id)
        if all(card.id != payment_method_id for card in wallet.cards):
            raise NotFound(
                "The customer has no such payment method.", resource="payment_method"
            )
        wallet.cards = [card for card in wallet.cards if card.id != payment_method_id]
        if wallet.default == payment_method_id:
            wallet.default = None

    def _wallet(self, customer_id: str) -> _Wallet:
        """The customer's cards; customers made before a restart start empty."""
        return self._wallets.setdefault(customer_id, _Wallet())
