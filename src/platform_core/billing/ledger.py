"""The subscription ledger: an account's current subscription, its periods and roles.

Everything here works inside a caller's unit of work, so other contexts can
check and consume entitlements in the same transaction as the change they
guard.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

import structlog

from platform_core.billing.mails import (
    BillingNotice,
    subscription_canceled,
    trial_expired,
)
from platform_core.billing.model import ATTENDEE_PLAN, Capability, Interval, Limit, Plan
from platform_core.billing.ports import DuplicateSubscription, GatewaySubscription
from platform_core.billing.subscription import (
    Provider,
    Subscription,
    SubscriptionStatus,
    SubscriptionView,
    UsageLine,
    add_months,
    period_containing,
)
from platform_core.notifications.model import Notification
from platform_core.outbox.service import enqueue_mail
from platform_core.shared.clock import Clock
from platform_core.shared.errors import Conflict
from platform_core.uow import UnitOfWork

log = structlog.get_logger(__name__)

UNLIMITED = 2**31 - 1
"""The count an unlimited quota is consumed against, so its use is still counted."""

_FALLBACK_ATTENDEE = Plan(code=ATTENDEE_PLAN, name="Attendee", prices=())


def already_subscribed(current: Subscription) -> Conflict:
    """The refusal of a second subscription while `current` is live."""
    return Conflict(
        "You already have a subscription; change its plan with "
        f"POST /api/v1/subscription/{current.id}/.",
        code="already_subscribed",
        subscription=str(current.id),
    )


def gateway_view(subscription: Subscription) -> GatewaySubscription:
    """A subscription as the payment gateway is told about it."""
    return GatewaySubscription(
        id=subscription.external_ref or "",
        customer_id=subscription.customer_ref or "",
        status=subscription.status,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        plan_code=subscription.plan_code,
        interval=subscription.interval,
        item_id=subscription.item_ref,
        trial_end=subscription.trial_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        canceled_at=subscription.canceled_at,
        ended_at=subscription.ended_at,
        account_id=subscription.account_id,
    )


@dataclass(slots=True)
class Mails:
    """What a unit of work leaves to do after commit: the outbox ids of the mails
    it queued, to dispatch, and the provider subscriptions a new one superseded,
    which the billing service cancels at the provider."""

    ids: list[UUID] = field(default_factory=list)
    superseded: list[GatewaySubscription] = field(default_factory=list)


class Ledger:
    """Reads and moves subscriptions forward inside a caller's unit of work."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def current(
        self, uow: UnitOfWork, account_id: UUID, mails: Mails
    ) -> Subscription:
        """The account's current subscription, brought up to the present.

        An account that never subscribed gets the free attendee plan, and a
        period that ended is rolled over (or the subscription ended) here, so
        correctness never waits for the scheduled jobs.
        """
        subscription = await uow.subscriptions.current_for(account_id)
        if subscription is None:
            return await self.start_free(uow, account_id, self._clock.now())
        return await self.roll_forward(uow, subscription, mails)

    async def start_free(
        self, uow: UnitOfWork, account_id: UUID, at: datetime
    ) -> Subscription:
        """Put the account on the attendee plan, with monthly usage periods."""
        free = Subscription(
            account_id=account_id,
            plan_code=ATTENDEE_PLAN,
            status=SubscriptionStatus.ACTIVE,
            interval=Interval.MONTH,
            current_period_start=at,
            current_period_end=add_months(at, 1),
            billing_anchor=at,
            created_at=self._clock.now(),
        )
        try:
            await uow.subscriptions.add(free)
        except DuplicateSubscription:
            existing = await uow.subscriptions.current_for(account_id)
            if existing is None:
                raise
            return existing
        await self.sync_roles(uow, free)
        return free

    async def roll_forward(
        self, uow: UnitOfWork, subscription: Subscription, mails: Mails
    ) -> Subscription:
        """Apply what the passing of time did to a subscription whose periods we keep.

        Stripe keeps its own periods, so its subscriptions are left as they are.
        """
        now = self._clock.now()
        if not subscription.periods_kept_here or now < subscription.current_period_end:
            return subscription
        ended_at = subscription.current_period_end
        if subscription.cancel_at_period_end:
            plan = await self.plan_named(uow, subscription.plan_code)
            return await self.end(
                uow, subscription, ended_at, mails, subscription_canceled(plan.name)
            )
        if subscription.status is SubscriptionStatus.TRIALING:
            customer = await uow.billing_customers.get(subscription.account_id)
            if customer is None or customer.default_payment_method is None:
                plan = await self.plan_named(uow, subscription.plan_code)
                return await self.end(
                    uow, subscription, ended_at, mails, trial_expired(plan.name)
                )
            subscription.status = SubscriptionStatus.ACTIVE
            subscription.billing_anchor = ended_at
            subscription.trial_end = subscription.trial_end or ended_at
        start, end = period_containing(
            subscription.billing_anchor, subscription.interval, now
        )
        subscription.current_period_start = start
        subscription.current_period_end = end
        subscription.updated_at = now
        await uow.subscriptions.update(subscription)
        await self.sync_roles(uow, subscription)
        log.info(
            "billing.period.rolled",
            subscription=str(subscription.id),
            period_start=start.isoformat(),
        )
        return subscription

    async def end(
        self,
        uow: UnitOfWork,
        subscription: Subscription,
        at: datetime,
        mails: Mails,
        notice: BillingNotice | None,
    ) -> Subscription:
        """End a subscription and put the account back on the free plan."""
        subscription.status = SubscriptionStatus.CANCELED
        subscription.ended_at = subscription.ended_at or at
        subscription.canceled_at = subscription.canceled_at or at
        subscription.cancel_at_period_end = False
        subscription.updated_at = self._clock.now()
        await uow.subscriptions.update(subscription)
        if notice is not None:
            await self.notify(
                uow,
                subscription.account_id,
                notice,
                f"{notice.kind}:{subscription.id}",
                mails,
            )
        log.info(
            "billing.subscription.ended",
            subscription=str(subscription.id),
            reason=notice.kind if notice else "replaced",
        )
        return await self.start_free(uow, subscription.account_id, at)

    async def apply_gateway_state(
        self,
        uow: UnitOfWork,
        state: GatewaySubscription,
        provider: Provider,
        mails: Mails,
        *,
        account_id: UUID | None = None,
        exclusive: bool = False,
    ) -> Subscription | None:
        """Mirror the provider's state of a subscription; None if no account owns it.

        Applying the same state twice, or an older state after a newer one was
        retrieved, leaves one subscription as the provider last described it.
        A subscription new here replaces the account's current one; with
        `exclusive` a live paid current one is kept and `already_subscribed`
        raised instead, decided in this transaction, so of concurrent starts
        exactly one wins (the unique index on current subscriptions makes the
        others retry and see it).
        """
        now = self._clock.now()
        known = await uow.subscriptions.get_by_external(state.id)
        if known is None:
            owner = account_id or state.account_id
            if owner is None:
                customer = await uow.billing_customers.get_by_ref(state.customer_id)
                owner = customer.account_id if customer else None
            if owner is None or await uow.users.get(owner) is None:
                log.warning("billing.gateway.orphan_subscription", external=state.id)
                return None
            if state.status is SubscriptionStatus.CANCELED:
                return None
            return await self._adopt(
                uow, owner, state, provider, mails, exclusive=exclusive
            )
        if known.ended_at is not None:
            return known
        self._copy_state(known, state, now)
        if state.status is SubscriptionStatus.CANCELED:
            plan = await self.plan_named(uow, known.plan_code)
            await self.end(
                uow,
                known,
                state.ended_at or now,
                mails,
                subscription_canceled(plan.name),
            )
            return known
        await uow.subscriptions.update(known)
        await self.sync_roles(uow, known)
        return known

    async def _adopt(
        self,
        uow: UnitOfWork,
        account_id: UUID,
        state: GatewaySubscription,
        provider: Provider,
        mails: Mails,
        *,
        exclusive: bool,
    ) -> Subscription:
        now = self._clock.now()
        previous = await uow.subscriptions.current_for(account_id)
        if (
            exclusive
            and previous is not None
            and previous.is_paid()
            and previous.status.is_live
        ):
            raise already_subscribed(previous)
        if previous is not None:
            if (
                previous.provider is provider
                and previous.external_ref is not None
                and not previous.periods_kept_here
                and previous.status.is_live
            ):
                mails.superseded.append(gateway_view(previous))
            previous.status = SubscriptionStatus.CANCELED
            previous.ended_at = now
            previous.canceled_at = previous.canceled_at or now
            previous.updated_at = now
            await uow.subscriptions.update(previous)
        subscription = Subscription(
            account_id=account_id,
            plan_code=state.plan_code or ATTENDEE_PLAN,
            status=state.status,
            interval=state.interval or Interval.MONTH,
            current_period_start=state.current_period_start,
            current_period_end=state.current_period_end,
            billing_anchor=state.current_period_start,
            created_at=now,
            provider=provider,
            customer_ref=state.customer_id,
            external_ref=state.id,
        )
        self._copy_state(subscription, state, now)
        await uow.subscriptions.add(subscription)
        await self.sync_roles(uow, subscription)
        log.info(
            "billing.subscription.started",
            subscription=str(subscription.id),
            plan=subscription.plan_code,
            status=subscription.status.value,
        )
        return subscription

    @staticmethod
    def _copy_state(
        subscription: Subscription, state: GatewaySubscription, now: datetime
    ) -> None:
        if state.plan_code is not None:
            subscription.plan_code = state.plan_code
        if state.interval is not None:
            if state.interval is not subscription.interval:
                subscription.billing_anchor = state.current_period_start
            subscription.interval = state.interval
        subscription.status = state.status
        subscription.current_period_start = state.current_period_start
        subscription.current_period_end = state.current_period_end
        subscription.trial_end = state.trial_end
        subscription.cancel_at_period_end = state.cancel_at_period_end
        subscription.canceled_at = state.canceled_at
        subscription.customer_ref = state.customer_id
        subscription.item_ref = state.item_id or subscription.item_ref
        subscription.synced_at = now
        subscription.updated_at = now

    async def plan_named(self, uow: UnitOfWork, code: str) -> Plan:
        plan = await uow.plans.get(code)
        if plan is not None:
            return plan
        return await uow.plans.get(ATTENDEE_PLAN) or _FALLBACK_ATTENDEE

    async def plan_of(self, uow: UnitOfWork, subscription: Subscription) -> Plan:
        """The plan whose entitlements apply: only trialing or active ones count."""
        if subscription.status.grants_plan:
            return await self.plan_named(uow, subscription.plan_code)
        return await self.plan_named(uow, ATTENDEE_PLAN)

    async def sync_roles(self, uow: UnitOfWork, subscription: Subscription) -> None:
        """Roles follow the subscription: `organizer` and `lms` make the roles."""
        if not subscription.is_current:
            return
        plan = await self.plan_of(uow, subscription)
        user = await uow.users.get(subscription.account_id)
        if user is None:
            return
        is_organizer = plan.allows(Capability.ORGANIZER)
        is_lms_owner = plan.allows(Capability.LMS)
        if (user.is_organizer, user.is_lms_owner) == (is_organizer, is_lms_owner):
            return
        user.is_organizer = is_organizer
        user.is_lms_owner = is_lms_owner
        user.updated_at = self._clock.now()
        await uow.users.update(user)
        log.info(
            "billing.roles.changed",
            user=str(user.id),
            is_organizer=is_organizer,
            is_lms_owner=is_lms_owner,
        )

    async def notify(
        self,
        uow: UnitOfWork,
        account_id: UUID,
        notice: BillingNotice,
        dedupe_key: str,
        mails: Mails,
    ) -> bool:
        """Record an in-app notification and queue its mail, once per dedupe key."""
        user = await uow.users.get(account_id)
        if user is None:
            return False
        created = await uow.notifications.add(
            Notification(
                user_id=account_id,
                kind=notice.kind,
                title=notice.title,
                body=notice.body,
                created_at=self._clock.now(),
                dedupe_key=dedupe_key,
            )
        )
        if created:
            mails.ids.append(
                await enqueue_mail(uow.outbox, notice.mail_to(user), self._clock)
            )
        return created

    async def view(
        self, uow: UnitOfWork, subscription: Subscription
    ) -> SubscriptionView:
        plan = await self.plan_of(uow, subscription)
        used = await uow.usage.used(
            subscription.account_id, subscription.current_period_start
        )
        usage = {
            name.value: UsageLine(
                used=used.get(name, 0),
                limit=plan.limit(name),
                resets_at=subscription.current_period_end,
            )
            for name in Limit
        }
        return SubscriptionView(subscription=replace(subscription), usage=usage)
