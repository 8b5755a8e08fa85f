"""The mails the identity context sends."""

from __future__ import annotations

from html import escape

from platform_core.identity.model import User
from platform_core.notifications.model import MailMessage


def _html(greeting: str, lines: list[str], link: str | None = None) -> str:
    paragraphs = [escape(greeting), *(escape(line) for line in lines)]
    if link is not None:
        paragraphs.append(f'<a href="{escape(link, quote=True)}">{escape(link)}</a>')
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f"<html>\n<body>\n{body}\n</body>\n</html>\n"


def _greeting(user: User) -> str:
    return f"Hello {user.first_name}," if user.first_name else "Hello,"


def verification_mail(user: User, link: str) -> MailMessage:
    lines = [
        "Please confirm your email address to activate your account.",
        "The link below works once and expires in 24 hours.",
    ]
    text = "\n\n".join([_greeting(user), *lines, link])
    return MailMessage(
        to=user.email,
        subject="Confirm your email address",
        text=text + "\n",
        html=_html(_greeting(user), lines, link),
    )


def already_registered_mail(user: User, reset_link: str) -> MailMessage:
    lines = [
        "Someone tried to sign up with this email address, which already has "
        "an account. If it was you, sign in instead; if you forgot your "
        "password, you can reset it at the address below.",
        "If it was not you, you can ignore this message.",
    ]
    text = "\n\n".join([_greeting(user), *lines, reset_link])
    return MailMessage(
        to=user.email,
        subject="You already have an account",
        text=text + "\n",
        html=_html(_greeting(user), lines, reset_link),
    )


def password_reset_mail(user: User, link: str) -> MailMessage:
    lines = [
        "We received a request to reset your password.",
        "The link below works once and expires in one hour. If you did not "
        "ask for it, ignore this message; your password stays as it is.",
    ]
    text = "\n\n".join([_greeting(user), *lines, link])
    return MailMessage(
        to=user.email,
        subject="Reset your password",
        text=text + "\n",
        html=_html(_greeting(user), lines, link),
    )


def password_changed_mail(user: User) -> MailMessage:
    lines = [
        "The password of your account was just changed and your other "
        "sessions were signed out.",
        "If this was not you, reset your password at once.",
    ]
    text = "\n\n".join([_greeting(user), *lines])
    return MailMessage(
        to=user.email,
        subject="Your password was changed",
        text=text + "\n",
        html=_html(_greeting(user), lines),
    )
