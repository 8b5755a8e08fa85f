"""The mails and in-app notifications the billing context sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from platform_core.identity.model import User
from platform_core.notifications.model import MailMessage


@dataclass(frozen=True, slots=True)
class BillingNotice:
    """One thing to tell an account holder, by mail and in the app."""

    kind: str
    title: str
    body: str

    def mail_to(self, user: User) -> MailMessage:
        greeting = f"Hello {user.first_name}," if user.first_name else "Hello,"
        text = f"{greeting}\n\n{self.body}\n"
        html = (
            "<html>\n<body>\n"
            f"<p>{escape(greeting)}</p>\n<p>{escape(self.body)}</p>\n"
            "</body>\n</html>\n"
        )
        return MailMessage(to=user.email, subject=self.title, text=text, html=html)


def _day(at: datetime) -> str:
    return at.strftime("%d %B %Y")


def _ends(trial_end: datetime, now: datetime) -> str:
    """When the trial ends, counted in days of the UTC calendar like its date."""
    days = (trial_end.astimezone(UTC).date() - now.astimezone(UTC).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def trial_ending(plan_name: str, trial_end: datetime, now: datetime) -> BillingNotice:
    return BillingNotice(
        kind="billing.trial_ending",
        title=f"Your trial ends {_ends(trial_end, now)}",
        body=(
            f"Your trial of the {plan_name} plan ends on {_day(trial_end)} (UTC). "
            "Add a payment method before then to keep the plan; otherwise your "
            "account returns to the free attendee plan."
        ),
    )


def trial_expired(plan_name: str) -> BillingNotice:
    return BillingNotice(
        kind="billing.trial_expired",
        title="Your trial has ended",
        body=(
            f"Your trial of the {plan_name} plan ended without a payment method, "
            "so your account is back on the free attendee plan. You can subscribe "
            "again at any time."
        ),
    )


def payment_failed(plan_name: str) -> BillingNotice:
    return BillingNotice(
        kind="billing.payment_failed",
        title="Your payment failed",
        body=(
            f"We could not collect the payment for your {plan_name} plan. Please "
            "update your payment method; organizer features are paused until the "
            "payment succeeds."
        ),
    )


def subscription_canceled(plan_name: str) -> BillingNotice:
    return BillingNotice(
        kind="billing.subscription_canceled",
        title="Your subscription was canceled",
        body=(
            f"Your {plan_name} subscription has ended and your account is on the "
            "free attendee plan. You can subscribe again at any time."
        ),
    )
