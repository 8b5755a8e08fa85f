"""Use cases of billing: plans, subscriptions, cards, provider events and jobs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

import structlog

from platform_core.audit.service import write_audit
from platform_core.billing.entitlements import Entitlements
from platform_core.billing.ledger import (
    Ledger,
    Mails,
    already_subscribed,
    gateway_view,
)
from platform_core.billing.mails import (
    payment_failed,
    subscription_canceled,
    trial_ending,
)
from platform_core.billing.model import ATTENDEE_PLAN, Interval, Limit, Plan
from platform_core.billing.ports import (
    ActiveWork,
    CheckoutRequest,
    DuplicateSubscription,
    GatewayEvent,
    GatewaySubscription,
    PaymentCard,
    PaymentGateway,
    PaymentListener,
    SetupIntent,
)
from platform_core.billing.subscription import (
    BillingCustomer,
    CheckoutStarted,
    Provider,
    Subscription,
    SubscriptionStatus,
    SubscriptionView,
)
from platform_core.identity.model import ClientInfo, Principal
from platform_core.outbox.ports import MessageDispatcher
from platform_core.shared.clock import Clock
from platform_core.shared.errors import (
    Conflict,
    FieldErrors,
    NotConfigured,
    NotFound,
    PermissionDenied,
)
from platform_core.shared.ids import new_id
from platform_core.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

T = TypeVar("T")

_ATTEMPTS = 3
_BATCH = 100
_PAYING = frozenset(
    {
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
    }
)
"""Provider subscriptions that stand for a plan the customer took and pays for;
an incomplete one (its first payment never went through) does not."""
_SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
_PAYMENT_EVENTS: dict[str, bool] = {
    "checkout.session.completed": True,
    "checkout.session.async_payment_succeeded": True,
    "checkout.session.expired": False,
    "checkout.session.async_payment_failed": False,
}
"""Checkout events about one-time payments: true when they report a success."""


@dataclass(frozen=True, slots=True)
class BillingPolicy:
    """Where the payment provider sends people back to after checkout."""

    checkout_success_url: str
    checkout_cancel_url: str
    trial_warning_days: int = 3

    @classmethod
    def for_frontend(cls, frontend_url: str) -> BillingPolicy:
        base = frontend_url.rstrip("/")
        return cls(
            checkout_success_url=f"{base}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
            checkout_cancel_url=f"{base}/billing/cancelled",
        )


@dataclass(frozen=True, slots=True)
class JobSummary:
    """What one run of a billing job did."""

    job: str
    examined: int
    changed: int


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """How a provider event was handled: applied, duplicate or ignored."""

    event_id: str
    outcome: str


class BillingService:
    """Plans, subscriptions, payment methods and the billing jobs."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        gateway: PaymentGateway,
        dispatcher: MessageDispatcher,
        policy: BillingPolicy,
        active_work: Sequence[ActiveWork] = (),
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._gateway = gateway
        self._dispatcher = dispatcher
        self._policy = policy
        self._active_work = tuple(active_work)
        self.ledger = Ledger(clock)
        self.entitlements = Entitlements(uow_factory, self.ledger, dispatcher)
        self.payment_listener: PaymentListener | None = None
        """Told of completed one-time payments (the registrations context)."""

    @property
    def payments_provider(self) -> Provider:
        return self._gateway.provider

    # -- plans -------------------------------------------------------------

    async def list_plans(self) -> Sequence[Plan]:
        """Every public plan a person can choose."""
        async with self._uow() as uow:
            return await uow.plans.list(public_only=True)

    async def list_all_plans(self) -> Sequence[Plan]:
        """Every plan, hidden ones included, for operators."""
        async with self._uow() as uow:
            return await uow.plans.list()

    async def get_plan(self, code: str) -> Plan:
        async with self._uow() as uow:
            plan = await uow.plans.get(code)
        if plan is None:
            raise NotFound(f"No plan has the code {code!r}.", resource="plan")
        return plan

    async def upsert_plan(self, actor: Principal | None, plan: Plan) -> bool:
        """Create or replace a plan; `actor` None is the operator's command line."""
        if actor is not None and not actor.is_staff:
            raise PermissionDenied("Only staff may change plans.")
        async with self._uow() as uow:
            created = await uow.plans.upsert(plan)
            await write_audit(
                uow.audit,
                "billing.plan.created" if created else "billing.plan.updated",
                at=self._clock.now(),
                actor_id=actor.user_id if actor else None,
                target_type="plan",
                target_id=plan.code,
                client=None,
            )
            await uow.commit()
        log.info("billing.plan.saved", plan=plan.code, created=created)
        return created

    # -- subscriptions -----------------------------------------------------

    async def subscription(self, actor: Principal) -> SubscriptionView:
        """The caller's current subscription with the usage of its period."""

        async def read(uow: UnitOfWork, mails: Mails) -> SubscriptionView:
            current = await self.ledger.current(uow, actor.user_id, mails)
            return await self.ledger.view(uow, current)

        return await self._write(read)

    async def subscribe(
        self,
        actor: Principal,
        *,
        plan_code: str,
        interval: str,
        client: ClientInfo | None = None,
    ) -> CheckoutStarted:
        """Start a plan: at once with the local gateway, else through a checkout.

        The plan's trial is granted once per account: an account that had a
        trial before (on any plan) starts paying at once.
        """
        plan, chosen = await self._chosen_plan(plan_code, interval)
        current = await self.subscription(actor)
        if current.subscription.is_paid() and current.subscription.status.is_live:
            raise already_subscribed(current.subscription)
        async with self._uow() as uow:
            had_trial = await uow.subscriptions.had_trial(actor.user_id)
        customer = await self._customer(actor.user_id)
        live = [
            state
            for state in await self._gateway.live_subscriptions(customer.customer_ref)
            if state.status in _PAYING
        ]
        if live:
            # Paid at the provider, but its webhook has not been applied yet.
            for state in reversed(live):
                view = await self._apply(state, account_id=actor.user_id)
            raise already_subscribed(view.subscription)
        session = await self._gateway.start_checkout(
            CheckoutRequest(
                account_id=actor.user_id,
                customer_id=customer.customer_ref,
                plan=plan,
                interval=chosen,
                trial_days=0 if had_trial else plan.trial_days,
                success_url=self._policy.checkout_success_url,
                cancel_url=self._policy.checkout_cancel_url,
                idempotency_key=f"checkout-{actor.user_id}-{new_id()}",
            )
        )
        if session.complete and session.subscription is not None:
            view = await self._apply(
                session.subscription,
                account_id=actor.user_id,
                audit=("billing.subscription.started", actor, client),
                exclusive=True,
            )
            return CheckoutStarted(view=view, session_id=session.id)
        log.info("billing.checkout.started", session=session.id, plan=plan.code)
        return CheckoutStarted(
            view=current, checkout_url=session.url, session_id=session.id
        )

    async def confirm_checkout(
        self, actor: Principal, session_id: str, client: ClientInfo | None = None
    ) -> SubscriptionView:
        """Activate the subscription a finished checkout created.

        The provider's webhook may have done it already; either way the result
        is the same single subscription.
        """
        session = await self._gateway.retrieve_checkout(session_id)
        if session is None or session.account_id != actor.user_id:
            raise NotFound("No checkout session has this id.", resource="checkout")
        if not session.complete or session.subscription is None:
            raise Conflict(
                "The checkout is not complete yet.", code="checkout_incomplete"
            )
        return await self._apply(
            session.subscription,
            account_id=actor.user_id,
            audit=("billing.subscription.started", actor, client),
        )

    async def change_plan(
        self,
        actor: Principal,
        subscription_id: UUID,
        *,
        plan_code: str | None,
        interval: str | None,
        client: ClientInfo | None = None,
    ) -> SubscriptionView:
        """Move to another plan or interval, prorated by the provider.

        A plan whose limits the current period's usage already exceeds is
        refused with the numbers.
        """
        current = await self._own_paid(actor, subscription_id)
        code = plan_code or current.plan_code
        plan, chosen = await self._chosen_plan(code, interval or current.interval.value)
        if plan.code == current.plan_code and chosen is current.interval:
            return await self.subscription(actor)
        async with self._uow() as uow:
            used = await uow.usage.used(actor.user_id, current.current_period_start)
        over = [
            {"limit": name.value, "used": used.get(name, 0), "allowed": allowed}
            for name in Limit
            if (allowed := plan.limit(name)) is not None and used.get(name, 0) > allowed
        ]
        if over:
            raise Conflict(
                f"This period's usage is above what {plan.name} allows: "
                + ", ".join(f"{o['limit']} {o['used']} of {o['allowed']}" for o in over)
                + ".",
                code="usage_exceeds_plan",
                limits=over,
            )
        state = await self._gateway.change_plan(
            gateway_view(current),
            plan,
            chosen,
            idempotency_key=f"change-{current.id}-{new_id()}",
        )
        return await self._apply(
            state, audit=("billing.subscription.changed", actor, client)
        )

    async def cancel(
        self, actor: Principal, client: ClientInfo | None = None
    ) -> SubscriptionView:
        """Cancel at the end of the current period; calling it again changes nothing."""
        current = await self._current_paid(actor)
        if current.cancel_at_period_end:
            return await self.subscription(actor)
        state = await self._gateway.set_cancel_at_period_end(
            gateway_view(current),
            True,
            idempotency_key=f"cancel-{current.id}-{new_id()}",
        )
        return await self._apply(
            state, audit=("billing.subscription.cancel_scheduled", actor, client)
        )

    async def reactivate(
        self, actor: Principal, client: ClientInfo | None = None
    ) -> SubscriptionView:
        """Undo a cancellation, only while the period it ends has not ended.

        A subscription past its trial renews by charging a card, so it is not
        reactivated while the account has none (the cancellation let the last
        one go); a trial still ends by the trial's own rules.
        """
        current = await self._current_paid(actor)
        if not current.cancel_at_period_end:
            raise Conflict(
                "The subscription is not set to cancel.", code="not_canceling"
            )
        renews = current.status is SubscriptionStatus.ACTIVE
        if renews and not await self._can_charge(actor):
            raise Conflict(
                "Add a payment method first: the subscription renews at the end "
                "of the period and needs a card to charge.",
                code="payment_method_required",
            )
        state = await self._gateway.set_cancel_at_period_end(
            gateway_view(current),
            False,
            idempotency_key=f"reactivate-{current.id}-{new_id()}",
        )
        return await self._apply(
            state, audit=("billing.subscription.reactivated", actor, client)
        )

    async def sync(self, actor: Principal) -> SubscriptionView:
        """Reconcile the caller's subscription with the payment provider."""
        view = await self.subscription(actor)
        current = view.subscription
        if current.provider is not Provider.STRIPE:
            return view
        self._require_provider(current)
        state = await self._gateway.retrieve_subscription(gateway_view(current))
        if state is None:
            return view
        return await self._apply(state)

    async def downgrade(
        self, actor: Principal, client: ClientInfo | None = None
    ) -> SubscriptionView:
        """Back to the attendee plan at once, refused while events or courses run."""
        active: dict[str, int] = {}
        for source in self._active_work:
            for kind, count in (await source.count(actor.user_id)).items():
                if count > 0:
                    active[kind] = active.get(kind, 0) + count
        if active:
            raise Conflict(
                "Close or cancel your active "
                + ", ".join(f"{count} {kind}" for kind, count in sorted(active.items()))
                + " before downgrading.",
                code="downgrade_blocked",
                active=active,
            )
        view = await self.subscription(actor)
        current = view.subscription
        if not current.is_paid():
            return view
        if current.provider is Provider.LOCAL or current.external_ref is None:
            state = None
        else:
            self._require_provider(current)
            state = await self._gateway.cancel_now(
                gateway_view(current),
                idempotency_key=f"downgrade-{current.id}-{new_id()}",
            )

        async def end(uow: UnitOfWork, mails: Mails) -> SubscriptionView:
            if state is not None:
                await self.ledger.apply_gateway_state(
                    uow, state, self._gateway.provider, mails
                )
            row = await uow.subscriptions.get(current.id)
            if row is not None and row.ended_at is None:
                plan = await self.ledger.plan_named(uow, row.plan_code)
                await self.ledger.end(
                    uow, row, self._clock.now(), mails, subscription_canceled(plan.name)
                )
            await self._audit(uow, "billing.account.downgraded", actor, current, client)
            fresh = await self.ledger.current(uow, actor.user_id, mails)
            return await self.ledger.view(uow, fresh)

        return await self._write(end)

    # -- payment methods ---------------------------------------------------

    async def payment_methods(self, actor: Principal) -> Sequence[PaymentCard]:
        return (await self._cards_of(actor))[1]

    async def _can_charge(self, actor: Principal) -> bool:
        """Whether a renewal has a card: one the provider lists, or the default
        the platform remembers, as a trial's end asks (local cards live in the
        serving process and a restart forgets them)."""
        customer, cards = await self._cards_of(actor)
        return bool(cards) or (
            customer is not None and customer.default_payment_method is not None
        )

    async def _cards_of(
        self, actor: Principal
    ) -> tuple[BillingCustomer | None, Sequence[PaymentCard]]:
        """The account's customer record at the provider, and its cards."""
        async with self._uow() as uow:
            customer = await uow.billing_customers.get(actor.user_id)
        if customer is None or customer.provider is not self._gateway.provider:
            return None, []
        return customer, await self._gateway.list_cards(customer.customer_ref)

    async def setup_payment_method(self, actor: Principal) -> SetupIntent:
        """A SetupIntent whose client secret lets the browser collect a card."""
        customer = await self._customer(actor.user_id)
        return await self._gateway.create_setup_intent(
            customer.customer_ref,
            idempotency_key=f"setup-{actor.user_id}-{new_id()}",
        )

    async def add_payment_method(
        self,
        actor: Principal,
        payment_method_id: str,
        *,
        make_default: bool,
        client: ClientInfo | None = None,
    ) -> PaymentCard:
        customer = await self._customer(actor.user_id)
        card = await self._gateway.attach_card(
            customer.customer_ref, payment_method_id, make_default=make_default
        )

        async def record(uow: UnitOfWork, mails: Mails) -> None:
            if card.is_default:
                await uow.billing_customers.save(
                    replace(customer, default_payment_method=card.id)
                )
            await write_audit(
                uow.audit,
                "billing.payment_method.added",
                at=self._clock.now(),
                actor_id=actor.user_id,
                target_type="payment_method",
                target_id=card.id,
                client=client,
            )

        await self._write(record)
        return card

    async def remove_payment_method(
        self,
        actor: Principal,
        payment_method_id: str,
        client: ClientInfo | None = None,
    ) -> None:
        """Detach a card; the last card of a paying subscription stays."""
        customer, cards = await self._cards_of(actor)
        if customer is None or all(card.id != payment_method_id for card in cards):
            raise NotFound(
                "You have no such payment method.", resource="payment_method"
            )
        current = (await self.subscription(actor)).subscription
        paying = (
            current.is_paid()
            and current.status.is_live
            and not current.cancel_at_period_end
        )
        if paying and len(cards) == 1:
            raise Conflict(
                "This is the only payment method of a paying subscription; add "
                "another one first, or cancel the subscription.",
                code="last_payment_method",
            )
        await self._gateway.detach_card(customer.customer_ref, payment_method_id)

        async def record(uow: UnitOfWork, mails: Mails) -> None:
            if customer.default_payment_method == payment_method_id:
                await uow.billing_customers.save(
                    replace(customer, default_payment_method=None)
                )
            await write_audit(
                uow.audit,
                "billing.payment_method.removed",
                at=self._clock.now(),
                actor_id=actor.user_id,
                target_type="payment_method",
                target_id=payment_method_id,
                client=client,
            )

        await self._write(record)

    # -- provider events ---------------------------------------------------

    async def handle_event(self, event: GatewayEvent) -> EventOutcome:
        """Apply a verified provider event once, ending in the provider's latest state.

        The event only says what changed; the subscription itself is retrieved
        from the provider, so events arriving out of order still end in the
        provider's current state.
        """
        if self._gateway.provider is not Provider.STRIPE:
            raise NotConfigured(
                "Stripe events are not accepted: the platform runs with "
                f"{self._gateway.provider.value} payments.",
                code="payments_not_configured",
            )
        state: GatewaySubscription | None = None
        account_id = event.account_id
        paid = await self._one_time_payment(event)
        if paid is not None:
            return paid
        if event.type == "checkout.session.completed" and event.checkout_session_id:
            session = await self._gateway.retrieve_checkout(event.checkout_session_id)
            if session is not None and session.complete:
                state = session.subscription
                account_id = session.account_id or account_id
        elif event.type in _SUBSCRIPTION_EVENTS and event.subscription_id:
            state = await self._gateway.retrieve_subscription(
                _reference(event.subscription_id, event.customer_id, self._clock)
            )

        async def apply(uow: UnitOfWork, mails: Mails) -> str:
            if not await uow.gateway_events.record(
                event.id, event.type, self._clock.now()
            ):
                return "duplicate"
            subscription = None
            if state is not None:
                subscription = await self.ledger.apply_gateway_state(
                    uow, state, self._gateway.provider, mails, account_id=account_id
                )
            elif event.subscription_id:
                subscription = await uow.subscriptions.get_by_external(
                    event.subscription_id
                )
            if subscription is None:
                return "ignored"
            plan = await self.ledger.plan_named(uow, subscription.plan_code)
            if event.type == "invoice.payment_failed":
                await self.ledger.notify(
                    uow,
                    subscription.account_id,
                    payment_failed(plan.name),
                    f"billing.payment_failed:{event.id}",
                    mails,
                )
            elif (
                event.type == "customer.subscription.trial_will_end"
                and subscription.trial_end is not None
            ):
                await self.ledger.notify(
                    uow,
                    subscription.account_id,
                    trial_ending(plan.name, subscription.trial_end, self._clock.now()),
                    f"billing.trial_ending:{subscription.id}",
                    mails,
                )
            return "applied"

        outcome = await self._write(apply)
        log.info(
            "billing.event.handled", event_id=event.id, type=event.type, outcome=outcome
        )
        return EventOutcome(event.id, outcome)

    async def _one_time_payment(self, event: GatewayEvent) -> EventOutcome | None:
        """Hand a payment-mode checkout's outcome to the payment listener.

        Redeliveries are told apart by the event id, recorded once the listener
        acted; an event that changed nothing the first time is `ignored`.
        """
        succeeded = _PAYMENT_EVENTS.get(event.type)
        if (
            self.payment_listener is None
            or succeeded is None
            or not event.checkout_session_id
        ):
            return None
        payment = await self._gateway.retrieve_payment(event.checkout_session_id)
        if payment is None or payment.reference is None:
            return None
        if succeeded:
            applied = await self.payment_listener.payment_completed(payment)
        elif payment.complete:
            applied = False
        else:
            applied = await self.payment_listener.payment_failed(payment)

        async def record(uow: UnitOfWork, mails: Mails) -> bool:
            return await uow.gateway_events.record(
                event.id, event.type, self._clock.now()
            )

        first = await self._write(record)
        outcome = "applied" if applied else "ignored" if first else "duplicate"
        log.info(
            "billing.event.handled",
            event_id=event.id,
            type=event.type,
            outcome=outcome,
            payment_ref=payment.id,
        )
        return EventOutcome(event.id, outcome)

    # -- jobs --------------------------------------------------------------

    async def reset_usage(self) -> JobSummary:
        """Start a new usage period for every subscription whose period ended.

        Periods are counted from each subscription's own anchor, so one that
        started on the 31st renews on the last day of shorter months.
        """
        examined = 0
        changed = 0
        while True:
            async with self._uow() as uow:
                due = await uow.subscriptions.periods_ended(
                    self._clock.now(), limit=_BATCH
                )
            if not due:
                break
            for subscription in due:
                examined += 1
                changed += await self._roll(subscription.id)
            if len(due) < _BATCH:
                break
        return JobSummary("reset-usage", examined, changed)

    async def expire_trials(self) -> JobSummary:
        """End trials that ended without payment; Stripe's are asked of Stripe."""
        examined = 0
        changed = 0
        async with self._uow() as uow:
            due = await uow.subscriptions.trials_ending(
                self._clock.now(), limit=_BATCH * 10
            )
        for subscription in due:
            examined += 1
            if subscription.periods_kept_here:
                changed += await self._roll(subscription.id)
            elif await self._reconcile(subscription):
                changed += 1
        return JobSummary("expire-trials", examined, changed)

    async def reconcile(self) -> JobSummary:
        """Bring every Stripe subscription in line with Stripe."""
        examined = 0
        changed = 0
        after: UUID | None = None
        while self._gateway.provider is Provider.STRIPE:
            async with self._uow() as uow:
                page = await uow.subscriptions.current_with_provider(
                    Provider.STRIPE, after=after, limit=_BATCH
                )
            for subscription in page:
                examined += 1
                if await self._reconcile(subscription):
                    changed += 1
            if len(page) < _BATCH:
                break
            after = page[-1].id
        account: UUID | None = None
        while self._gateway.provider is Provider.STRIPE:
            async with self._uow() as uow:
                customers = await uow.billing_customers.with_provider(
                    Provider.STRIPE, after=account, limit=_BATCH
                )
            for customer in customers:
                examined += 1
                changed += await self._settle_strays(customer)
            if len(customers) < _BATCH:
                break
            account = customers[-1].account_id
        return JobSummary("reconcile", examined, changed)

    async def _settle_strays(self, customer: BillingCustomer) -> int:
        """Make the account's current subscription the customer's only live one.

        A subscription live at the provider that was superseded here (its
        cancellation failed) is canceled now; one never seen here is applied as
        its webhook would have been, which supersedes the current one.
        """
        settled = 0
        for state in await self._gateway.live_subscriptions(customer.customer_ref):
            async with self._uow() as uow:
                known = await uow.subscriptions.get_by_external(state.id)
            if known is not None and known.ended_at is not None:
                settled += int(await self._cancel_superseded(state))
            elif known is None and state.status in _PAYING:
                log.warning(
                    "billing.reconcile.unknown_subscription",
                    external=state.id,
                    account=str(customer.account_id),
                )
                await self._apply(state, account_id=customer.account_id)
                settled += 1
        return settled

    async def sync_subscription(self, subscription_id: UUID) -> bool:
        """Reconcile one subscription with its provider; true if it changed."""
        async with self._uow() as uow:
            subscription = await uow.subscriptions.get(subscription_id)
        if subscription is None:
            raise NotFound("No subscription has this id.", resource="subscription")
        if subscription.provider is not Provider.STRIPE:
            return await self._roll(subscription.id) > 0
        return await self._reconcile(subscription)

    async def notify_trials_ending(self) -> JobSummary:
        """Tell each trialing account, once, that its trial ends within days."""
        now = self._clock.now()
        horizon = now + timedelta(days=self._policy.trial_warning_days)
        async with self._uow() as uow:
            due = await uow.subscriptions.trials_ending(horizon, limit=_BATCH * 10)

        async def notify(uow: UnitOfWork, mails: Mails) -> int:
            sent = 0
            for subscription in due:
                if subscription.trial_end is None or subscription.trial_end <= now:
                    continue
                plan = await self.ledger.plan_named(uow, subscription.plan_code)
                sent += await self.ledger.notify(
                    uow,
                    subscription.account_id,
                    trial_ending(plan.name, subscription.trial_end, now),
                    f"billing.trial_ending:{subscription.id}",
                    mails,
                )
            return sent

        return JobSummary("notify", len(due), await self._write(notify))

    # -- helpers -----------------------------------------------------------

    async def _write(self, work: Callable[[UnitOfWork, Mails], Awaitable[T]]) -> T:
        """Run `work` in one committed unit of work, retried when a concurrent
        writer created the same subscription first; mails go out after commit,
        and subscriptions it superseded are canceled at the provider."""
        for attempt in range(1, _ATTEMPTS + 1):
            mails = Mails()
            try:
                async with self._uow() as uow:
                    result = await work(uow, mails)
                    await uow.commit()
            except DuplicateSubscription:
                if attempt == _ATTEMPTS:
                    raise
                log.info("billing.write.retried", attempt=attempt)
                continue
            await self._dispatcher.dispatch(mails.ids)
            for superseded in mails.superseded:
                await self._cancel_superseded(superseded)
            return result
        raise AssertionError("unreachable")

    async def _cancel_superseded(self, state: GatewaySubscription) -> bool:
        """Cancel at the provider a subscription another one replaced here.

        The replacement is committed already, so a failure is only logged: the
        reconcile job finds the subscription still live and cancels it then.
        """
        try:
            await self._gateway.cancel_now(
                state, idempotency_key=f"supersede-{state.id}"
            )
        except Exception as error:
            log.warning(
                "billing.superseded.cancel_failed",
                external=state.id,
                error=type(error).__name__,
            )
            return False
        log.info("billing.superseded.canceled", external=state.id)
        return True

    async def _apply(
        self,
        state: GatewaySubscription,
        *,
        account_id: UUID | None = None,
        audit: tuple[str, Principal, ClientInfo | None] | None = None,
        exclusive: bool = False,
    ) -> SubscriptionView:
        async def apply(uow: UnitOfWork, mails: Mails) -> SubscriptionView:
            subscription = await self.ledger.apply_gateway_state(
                uow,
                state,
                self._gateway.provider,
                mails,
                account_id=account_id,
                exclusive=exclusive,
            )
            if subscription is None:
                raise NotFound(
                    "The payment provider's subscription has no account here.",
                    resource="subscription",
                )
            if audit is not None:
                action, actor, client = audit
                await self._audit(uow, action, actor, subscription, client)
            current = await self.ledger.current(uow, subscription.account_id, mails)
            return await self.ledger.view(uow, current)

        return await self._write(apply)

    async def _roll(self, subscription_id: UUID) -> int:
        async def roll(uow: UnitOfWork, mails: Mails) -> int:
            subscription = await uow.subscriptions.get(subscription_id)
            if subscription is None or not subscription.is_current:
                return 0
            before = (subscription.current_period_start, subscription.status)
            after = await self.ledger.roll_forward(uow, subscription, mails)
            return int(
                after.id != subscription.id
                or (after.current_period_start, after.status) != before
            )

        return await self._write(roll)

    async def _reconcile(self, subscription: Subscription) -> bool:
        if self._gateway.provider is not subscription.provider:
            log.warning(
                "billing.reconcile.skipped",
                subscription=str(subscription.id),
                provider=subscription.provider.value,
            )
            return False
        state = await self._gateway.retrieve_subscription(gateway_view(subscription))
        if state is None:
            return False
        before = (subscription.status, subscription.current_period_end)

        async def apply(uow: UnitOfWork, mails: Mails) -> bool:
            row = await self.ledger.apply_gateway_state(
                uow, state, self._gateway.provider, mails
            )
            return row is not None and ((row.status, row.current_period_end) != before)

        return await self._write(apply)

    async def _chosen_plan(self, code: str, interval: str) -> tuple[Plan, Interval]:
        errors = FieldErrors()
        async with self._uow() as uow:
            plan = await uow.plans.get(code)
        if plan is None or not plan.is_public:
            errors.add("plan", "unknown", f"No plan has the code {code!r}.")
        elif plan.code == ATTENDEE_PLAN:
            errors.add(
                "plan",
                "invalid",
                "The attendee plan needs no subscription; use "
                "POST /api/v1/users/me/downgrade/ to return to it.",
            )
        try:
            chosen = Interval(interval)
        except ValueError:
            errors.add("interval", "invalid", "Choose month or year.")
            chosen = Interval.MONTH
        if plan is not None and plan.price_for(chosen) is None:
            errors.add(
                "interval",
                "unavailable",
                f"The {plan.name} plan has no {chosen.value}ly price.",
            )
        errors.raise_if_any("The plan cannot be chosen.")
        assert plan is not None
        return plan, chosen

    async def _customer(self, account_id: UUID) -> BillingCustomer:
        """The account's customer at the configured provider, created on first use."""
        async with self._uow() as uow:
            existing = await uow.billing_customers.get(account_id)
            user = await uow.users.get(account_id)
        if existing is not None and existing.provider is self._gateway.provider:
            return existing
        if user is None:
            raise NotFound("No such account.", resource="user")
        reference = await self._gateway.create_customer(
            account_id=account_id,
            email=user.email,
            name=user.full_name,
            idempotency_key=f"customer-{account_id}-{self._gateway.provider.value}",
        )
        customer = BillingCustomer(
            account_id=account_id,
            provider=self._gateway.provider,
            customer_ref=reference,
            created_at=self._clock.now(),
        )

        async def save(uow: UnitOfWork, mails: Mails) -> BillingCustomer:
            raced = await uow.billing_customers.get(account_id)
            if raced is not None and raced.customer_ref == reference:
                return raced
            await uow.billing_customers.save(customer)
            return customer

        return await self._write(save)

    async def _current_paid(self, actor: Principal) -> Subscription:
        current = (await self.subscription(actor)).subscription
        if not current.is_paid():
            raise Conflict(
                "You are on the free attendee plan; there is no subscription to "
                "change.",
                code="not_subscribed",
            )
        self._require_provider(current)
        return current

    async def _own_paid(self, actor: Principal, subscription_id: UUID) -> Subscription:
        current = await self._current_paid_or_none(actor)
        if current is None or current.id != subscription_id:
            async with self._uow() as uow:
                other = await uow.subscriptions.get(subscription_id)
            if other is None or other.account_id != actor.user_id:
                raise NotFound("No subscription has this id.", resource="subscription")
            if current is None:
                raise Conflict(
                    "You are on the free attendee plan; start a plan with "
                    "POST /api/v1/subscription/.",
                    code="not_subscribed",
                )
            raise Conflict(
                "This subscription has ended; change your current one.",
                code="subscription_ended",
                subscription=str(current.id),
            )
        return current

    async def _current_paid_or_none(self, actor: Principal) -> Subscription | None:
        current = (await self.subscription(actor)).subscription
        if not current.is_paid():
            return None
        self._require_provider(current)
        return current

    def _require_provider(self, subscription: Subscription) -> None:
        if (
            subscription.is_paid()
            and subscription.provider is not self._gateway.provider
        ):
            raise NotConfigured(
                f"This subscription is managed by {subscription.provider.value} "
                f"payments, but the platform runs with "
                f"{self._gateway.provider.value} payments.",
                code="payments_not_configured",
            )

    async def _audit(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Principal,
        subscription: Subscription,
        client: ClientInfo | None,
    ) -> None:
        await write_audit(
            uow.audit,
            action,
            at=self._clock.now(),
            actor_id=actor.user_id,
            target_type="subscription",
            target_id=subscription.id,
            client=client,
            plan=subscription.plan_code,
            status=subscription.status.value,
        )


def _reference(
    subscription_id: str, customer_id: str | None, clock: Clock
) -> GatewaySubscription:
    """A bare reference to a provider subscription, enough to retrieve it."""
    now = clock.now()
    return GatewaySubscription(
        id=subscription_id,
        customer_id=customer_id or "",
        status=SubscriptionStatus.INCOMPLETE,
        current_period_start=now,
        current_period_end=now,
    )
