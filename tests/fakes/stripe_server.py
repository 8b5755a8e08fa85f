"""A local fake of the Stripe API endpoints the Stripe gateway uses.

`FakeStripe` is a real HTTP server on 127.0.0.1 (a free port, its own thread)
that answers form-encoded requests the way Stripe's API reference describes:
the same paths, status codes, error objects
(`{"error": {"type", "code", "message", "param"}}`), `expand[]`, deleted
objects, unknown parameters refused, and `Idempotency-Key` honoured on POST.
Every object starts as a copy of Stripe's own example in
`stripe_fixtures.json` with only the fields that matter changed.

Point the SDK at it with `build_stripe_client(key, api_base=fake.api_base)`.

Python helpers drive what a person or Stripe would do outside the API:

- `add_price(price_id, interval=...)`: a recurring price checkouts may use.
- `complete_checkout(session_id)`: the customer pays; the subscription starts
  (trialing when the session asked for trial days).
- `create_completed_checkout(price_id, account_id=...)`: a customer, session
  and subscription in one call, for tests that start from a paying customer.
- `complete_payment(session_id, delayed=...)`: the customer pays a
  payment-mode session (`price_data` line item); `settle_payment(...)` ends a
  delayed one, `expire_checkout(session_id)` lets an open one run out. Then
  `signed_event("checkout.session.completed" | "checkout.session.expired" |
  "checkout.session.async_payment_succeeded" |
  "checkout.session.async_payment_failed", session_id, secret)`.
- `update_subscription(...)`, `advance_period(...)`: Stripe's billing moving on.
- `create_invoice(subscription_id, legacy_shape=...)`: an invoice of either
  API shape, for invoice events.
- `fail_next(...)`, `drop_next(...)`: the next requests (or the next ones to
  one path) get a 5xx or a closed connection.
- `signed_event(type, object_id, secret)`: an event with the object's current
  state, signed exactly as Stripe signs webhooks (`Stripe-Signature`).
- `requests`: every request received, with method, path, idempotency key and
  parameters.
- `checkout_requests(mode)`: the requests that created checkout sessions.
- `refunds_of(session_id)`: the refunds (`POST /v1/refunds`) of what a
  payment-mode session collected; `forget_idempotency_keys()` acts out the
  24 hours after which Stripe treats a key as new.

Use it through the pytest fixture `stripe_fake` (one server per session, state
emptied before each test): import `stripe_fake` and `stripe_fake_server` into
a conftest.py.
"""

from __future__ import annotations

import calendar
import copy
import functools
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

FIXTURES_FILE = Path(__file__).with_name("stripe_fixtures.json")
API_VERSION = "2026-10-28.endive"
DAY = 86_400

_ALPHANUMERIC = string.ascii_letters + string.digits
_KEY_PART = re.compile(r"\[([^\[\]]*)\]")

TEST_CARDS: dict[str, tuple[str, str, str]] = {
    "pm_card_visa": ("visa", "4242", "credit"),
    "pm_card_visa_debit": ("visa", "5556", "debit"),
    "pm_card_mastercard": ("mastercard", "4444", "credit"),
    "pm_card_mastercard_debit": ("mastercard", "8210", "debit"),
    "pm_card_mastercard_prepaid": ("mastercard", "5100", "prepaid"),
    "pm_card_amex": ("amex", "8431", "credit"),
    "pm_card_discover": ("discover", "1117", "credit"),
    "pm_card_diners": ("diners", "0004", "credit"),
    "pm_card_jcb": ("jcb", "0505", "credit"),
    "pm_card_unionpay": ("unionpay", "0005", "credit"),
    "pm_card_chargeCustomerFail": ("visa", "0341", "credit"),
}
"""Stripe's test PaymentMethod tokens that attach: brand, last4, funding."""

DECLINED_CARDS: dict[str, tuple[str, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
    ),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card"),
    "pm_card_visa_chargeDeclinedLostCard": ("card_declined", "lost_card"),
    "pm_card_chargeDeclinedStolenCard": ("card_declined", "stolen_card"),
    "pm_card_visa_chargeDeclinedStolenCard": ("card_declined", "stolen_card"),
    "pm_card_chargeDeclinedFraudulent": ("card_declined", "fraudulent"),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card"),
    "pm_card_chargeDeclinedIncorrectCvc": ("incorrect_cvc", "incorrect_cvc"),
    "pm_card_chargeDeclinedProcessingError": ("processing_error", "processing_error"),
}
"""Test tokens Stripe declines when attached: error code and decline code."""

MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50,
    "eur": 50,
    "chf": 50,
    "cad": 50,
    "aud": 50,
    "gbp": 30,
    "jpy": 50,
}
"""Stripe's minimum charge per currency, in minor units (50 where not listed)."""

_COMMON_PARAMS = frozenset({"expand"})
_ALLOWED_PARAMS: dict[str, frozenset[str]] = {
    "create_customer": frozenset(
        {"email", "name", "metadata", "description", "phone", "invoice_settings"}
    ),
    "update_customer": frozenset(
        {"email", "name", "metadata", "description", "phone", "invoice_settings"}
    ),
    "list_customer_payment_methods": frozenset(
        {"type", "limit", "starting_after", "ending_before", "allow_redisplay"}
    ),
    "attach_payment_method": frozenset({"customer"}),
    "create_setup_intent": frozenset(
        {
            "customer",
            "usage",
            "allowed_payment_method_types",
            "payment_method_types",
            "metadata",
            "description",
        }
    ),
    "create_checkout_session": frozenset(
        {
            "mode",
            "customer",
            "customer_email",
            "client_reference_id",
            "line_items",
            "subscription_data",
            "payment_intent_data",
            "expires_at",
            "metadata",
            "success_url",
            "cancel_url",
            "payment_method_collection",
            "allow_promotion_codes",
            "locale",
        }
    ),
    "update_subscription": frozenset(
        {
            "items",
            "proration_behavior",
            "cancel_at_period_end",
            "metadata",
            "default_payment_method",
        }
    ),
    "cancel_subscription": frozenset({"invoice_now", "prorate"}),
    "create_refund": frozenset(
        {"payment_intent", "charge", "amount", "reason", "metadata"}
    ),
    "list_subscriptions": frozenset(
        {"customer", "price", "status", "limit", "starting_after", "ending_before"}
    ),
}


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def _add_months(at: int, months: int) -> int:
    """Unix seconds `months` later on the same day, or the month's last day."""
    moment = datetime.fromtimestamp(at, UTC)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def _unix(value: datetime | int | None) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


class _ApiError(Exception):
    """An error answer in Stripe's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "error": {
                "type": type,
                "code": code,
                "message": message,
                "param": param,
                **({"decline_code": decline_code} if decline_code else {}),
                "doc_url": f"https://stripe.com/docs/error-codes/{code}"
                if code
                else None,
            }
        }


def _injected(status: int) -> _ApiError:
    """The error Stripe sends with `status` when it cannot serve a request."""
    if status == 429:
        return _ApiError(
            429,
            "Too many requests hit the API too quickly.",
            code="rate_limit",
        )
    return _ApiError(
        status,
        "An unknown error occurred while processing the request.",
        type="api_error",
    )


def _missing(kind: str, object_id: str, param: str = "id") -> _ApiError:
    return _ApiError(
        404,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracketed form encoding (`items[0][price]=x`) as nested JSON."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        path = [head, *_KEY_PART.findall(key[len(head) :])]
        node = root
        for name in path[:-1]:
            node = node.setdefault(name or str(len(node)), {})
            if not isinstance(node, dict):
                raise _ApiError(400, f"Invalid value for {key}.", param=key)
        node[path[-1] or str(len(node))] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Objects whose keys are all indexes become lists, in index order."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received; `outcome` is ok, error, replayed,
    failed (an injected 5xx) or dropped (an injected closed connection)."""

    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, Any]
    status: int | None
    outcome: str


@dataclass(frozen=True)
class SignedEvent:
    """A webhook delivery: the exact body and its `Stripe-Signature` header."""

    event: dict[str, Any]
    payload: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"content-type": "application/json", "stripe-signature": self.signature}


@dataclass
class _Stored:
    """An idempotent answer: what it was for and what was sent."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class _State:
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    setup_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    session_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, _Stored] = field(default_factory=dict)
    attach_order: list[str] = field(default_factory=list)


_Route = tuple[str, re.Pattern[str], str]
_ROUTES: list[_Route] = [
    (method, re.compile(f"^{pattern}$"), handler)
    for method, pattern, handler in [
        ("POST", r"/v1/customers", "create_customer"),
        ("GET", r"/v1/customers/(?P<id>[^/]+)", "get_customer"),
        ("POST", r"/v1/customers/(?P<id>[^/]+)", "update_customer"),
        ("DELETE", r"/v1/customers/(?P<id>[^/]+)", "delete_customer"),
        (
            "GET",
            r"/v1/customers/(?P<id>[^/]+)/payment_methods",
            "list_customer_payment_methods",
        ),
        ("GET", r"/v1/payment_methods/(?P<id>[^/]+)", "get_payment_method"),
        (
            "POST",
            r"/v1/payment_methods/(?P<id>[^/]+)/attach",
            "attach_payment_method",
        ),
        (
            "POST",
            r"/v1/payment_methods/(?P<id>[^/]+)/detach",
            "detach_payment_method",
        ),
        ("POST", r"/v1/setup_intents", "create_setup_intent"),
        ("GET", r"/v1/setup_intents/(?P<id>[^/]+)", "get_setup_intent"),
        ("POST", r"/v1/checkout/sessions", "create_checkout_session"),
        ("GET", r"/v1/checkout/sessions/(?P<id>[^/]+)", "get_checkout_session"),
        (
            "POST",
            r"/v1/checkout/sessions/(?P<id>[^/]+)/expire",
            "expire_checkout_session",
        ),
        ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", "get_payment_intent"),
        ("POST", r"/v1/refunds", "create_refund"),
        ("GET", r"/v1/subscriptions", "list_subscriptions"),
        ("GET", r"/v1/subscriptions/(?P<id>[^/]+)", "get_subscription"),
        ("POST", r"/v1/subscriptions/(?P<id>[^/]+)", "update_subscription"),
        ("DELETE", r"/v1/subscriptions/(?P<id>[^/]+)", "cancel_subscription"),
        ("GET", r"/v1/invoices/(?P<id>[^/]+)", "get_invoice"),
    ]
]


class FakeStripe:
    """Stripe's API for customers, cards, setup intents, checkout and subscriptions.

    Thread-safe: the server thread and the test share one lock.
    """

    def __init__(self) -> None:
        self._fixtures: dict[str, Any] = json.loads(FIXTURES_FILE.read_text())[
            "resources"
        ]
        self._lock = threading.RLock()
        self._state = _State()
        self._frozen_at: int | None = None
        self._failures: list[tuple[int | None, str | None]] = []
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and serve in a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=functools.partial(server.serve_forever, poll_interval=0.05),
            name="fake-stripe",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def api_base(self) -> str:
        """The base URL to give the SDK (`http://127.0.0.1:<port>`)."""
        if self._server is None:
            raise RuntimeError("the fake Stripe server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset(self) -> None:
        """Forget every object, request, failure and frozen time; keep prices."""
        with self._lock:
            prices = self._state.prices
            self._state = _State(prices=prices)
            self._frozen_at = None
            self._failures.clear()
            self.requests.clear()

    # -- test controls -------------------------------------------------------

    def forget_idempotency_keys(self) -> None:
        """Stripe keeps idempotent answers for 24 hours; after that a key is new."""
        with self._lock:
            self._state.idempotent.clear()

    def freeze_time(self, at: datetime | None) -> None:
        """Stamp new objects with `at` instead of the wall clock (None thaws)."""
        with self._lock:
            self._frozen_at = _unix(at)

    def now(self) -> int:
        with self._lock:
            return self._frozen_at if self._frozen_at is not None else int(time.time())

    def add_price(
        self,
        price_id: str,
        *,
        interval: str = "month",
        unit_amount: int = 2000,
        currency: str = "eur",
    ) -> dict[str, Any]:
        """A recurring price (interval `month` or `year`) line items may use."""
        price = self._copy("price")
        price.update(
            id=price_id,
            created=self.now(),
            currency=currency,
            unit_amount=unit_amount,
            unit_amount_decimal=str(unit_amount),
            transform_quantity=None,
        )
        price["recurring"].update(interval=interval, interval_count=1)
        with self._lock:
            self._state.prices[price_id] = price
        return copy.deepcopy(price)

    def get(self, object_id: str) -> dict[str, Any]:
        """A copy of any stored object, by id."""
        with self._lock:
            return copy.deepcopy(self._find(object_id))

    def complete_checkout(
        self, session_id: str, *, payment_method: str | None = "pm_card_visa"
    ) -> dict[str, Any]:
        """The customer finishes the hosted page; returns the new subscription.

        With `payment_method` (a test token) a card is attached to the customer
        and becomes the subscription's default payment method.
        """
        with self._lock:
            session = self._open_session(session_id, "subscription")
            order = self._state.session_orders[session_id]
            customer = self._state.customers[session["customer"]]
            card_id = None
            if payment_method is not None:
                card_id = self._new_card(payment_method, customer["id"])["id"]
            subscription = self._new_subscription(
                customer_id=customer["id"],
                price_id=order["price"],
                quantity=order["quantity"],
                metadata=order["metadata"],
                trial_days=order["trial_days"],
                missing_payment_method=order["missing_payment_method"],
                default_payment_method=card_id,
            )
            session.update(
                status="complete",
                payment_status="no_payment_required"
                if subscription["status"] == "trialing"
                else "paid",
                subscription=subscription["id"],
                customer_details={
                    **self._fixtures["checkout.session"]["customer_details"],
                    "email": customer["email"],
                    "name": customer["name"],
                },
            )
            return copy.deepcopy(subscription)

    def complete_payment(
        self, session_id: str, *, delayed: bool = False
    ) -> dict[str, Any]:
        """The customer pays a payment-mode session; returns its PaymentIntent.

        The session becomes `complete` and `paid` and gets its `payment_intent`
        (Stripe creates it only now). With `delayed` the payment method settles
        later, as bank debits do: the session is `complete` but `unpaid` and
        the intent `processing`, until `settle_payment` decides.
        """
        with self._lock:
            session = self._open_session(session_id, "payment")
            order = self._state.session_orders[session_id]
            now = self.now()
            intent = self._copy("payment_intent")
            intent.update(
                id=f"pi_{_random(24)}",
                created=now,
                amount=session["amount_total"],
                amount_capturable=0,
                amount_received=0 if delayed else session["amount_total"],
                currency=session["currency"],
                customer=session["customer"],
                description=order["name"],
                metadata=dict(order["payment_intent_metadata"]),
                receipt_email=session["customer_email"],
                canceled_at=None,
                last_payment_error=None,
                next_action=None,
                processing={"type": "card"} if delayed else None,
                transfer_data=None,
                status="processing" if delayed else "succeeded",
                automatic_payment_methods=None,
            )
            intent["client_secret"] = f"{intent['id']}_secret_{_random(25)}"
            self._state.payment_intents[intent["id"]] = intent
            session.update(
                status="complete",
                payment_status="unpaid" if delayed else "paid",
                payment_intent=intent["id"],
                url=None,
                customer_details={
                    **self._fixtures["checkout.session"]["customer_details"],
                    "email": session["customer_email"],
                },
            )
            return copy.deepcopy(intent)

    def settle_payment(self, session_id: str, *, succeeded: bool) -> dict[str, Any]:
        """A delayed payment succeeds (session `paid`) or fails (stays `unpaid`).

        Send `checkout.session.async_payment_succeeded` or
        `checkout.session.async_payment_failed` about the session afterwards.
        """
        with self._lock:
            session = self._state.sessions[session_id]
            intent = self._state.payment_intents.get(session["payment_intent"] or "")
            if intent is None or intent["status"] != "processing":
                raise ValueError(f"checkout session {session_id} has nothing pending")
            if succeeded:
                session["payment_status"] = "paid"
                intent.update(status="succeeded", amount_received=intent["amount"])
            else:
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "type": "card_error",
                        "code": "payment_intent_payment_attempt_failed",
                        "message": "The payment failed.",
                    },
                )
            return copy.deepcopy(session)

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """The session reaches its `expires_at` unpaid; send
        `checkout.session.expired` about it afterwards."""
        with self._lock:
            session = self._open_session(session_id, None)
            session.update(status="expired", url=None)
            return copy.deepcopy(session)

    def checkout_requests(self, mode: str | None = None) -> list[RecordedRequest]:
        """The requests that created checkout sessions (of `mode`, if given)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (r.method, r.path) == ("POST", "/v1/checkout/sessions")
                and (mode is None or r.params.get("mode") == mode)
            ]

    def _open_session(self, session_id: str, mode: str | None) -> dict[str, Any]:
        session = self._state.sessions.get(session_id)
        if session is None:
            raise KeyError(f"no checkout session {session_id!r}")
        if mode is not None and session["mode"] != mode:
            raise ValueError(f"checkout session {session_id} is not in {mode} mode")
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}")
        return session

    def create_completed_checkout(
        self,
        price_id: str,
        *,
        account_id: str | None = None,
        trial_days: int = 0,
        email: str = "ada@example.org",
    ) -> dict[str, Any]:
        """A new customer who finished a checkout for `price_id`, without HTTP.

        Returns the completed session; its `subscription` and `customer` name
        the objects made, and `account_id` goes where the gateway puts it
        (`client_reference_id` and the subscription's metadata).
        """
        metadata = {"account_id": account_id} if account_id else {}
        with self._lock:
            customer = self._create_customer({"email": email, "metadata": metadata})
            subscription_data: dict[str, Any] = {"metadata": metadata}
            if trial_days:
                subscription_data["trial_period_days"] = str(trial_days)
            session = self._create_checkout_session(
                {
                    "mode": "subscription",
                    "customer": customer["id"],
                    "client_reference_id": account_id,
                    "line_items": [{"price": price_id, "quantity": "1"}],
                    "subscription_data": subscription_data,
                    "metadata": metadata,
                    "success_url": "https://app.test/done",
                }
            )
            self.complete_checkout(session["id"])
            return copy.deepcopy(session)

    def update_subscription(
        self,
        subscription_id: str,
        *,
        status: str | None = None,
        current_period_start: datetime | int | None = None,
        current_period_end: datetime | int | None = None,
        cancel_at_period_end: bool | None = None,
        trial_end: datetime | int | None = None,
    ) -> dict[str, Any]:
        """Change a subscription as Stripe's billing would (e.g. `past_due`).

        Setting `canceled` also stamps `canceled_at` and `ended_at`.
        """
        with self._lock:
            subscription = self._subscription(subscription_id)
            item = subscription["items"]["data"][0]
            if status is not None:
                subscription["status"] = status
                if status in ("canceled", "incomplete_expired"):
                    now = self.now()
                    subscription["canceled_at"] = subscription["canceled_at"] or now
                    subscription["ended_at"] = now
            if current_period_start is not None:
                item["current_period_start"] = _unix(current_period_start)
            if current_period_end is not None:
                item["current_period_end"] = _unix(current_period_end)
            if cancel_at_period_end is not None:
                self._schedule_cancel(subscription, cancel_at_period_end)
            if trial_end is not None:
                subscription["trial_end"] = _unix(trial_end)
            return copy.deepcopy(subscription)

    def advance_period(self, subscription_id: str) -> dict[str, Any]:
        """Move to the next billing period, as when the current one ends.

        A trial ends (trialing becomes active); a subscription set to cancel at
        period end is canceled instead.
        """
        with self._lock:
            subscription = self._subscription(subscription_id)
            item = subscription["items"]["data"][0]
            end = item["current_period_end"]
            if subscription["cancel_at_period_end"]:
                subscription.update(status="canceled", ended_at=end)
                return copy.deepcopy(subscription)
            months = 12 if item["price"]["recurring"]["interval"] == "year" else 1
            item["current_period_start"] = end
            item["current_period_end"] = _add_months(end, months)
            if subscription["status"] == "trialing":
                subscription["status"] = "active"
            return copy.deepcopy(subscription)

    def create_invoice(
        self, subscription_id: str, *, legacy_shape: bool = False, paid: bool = True
    ) -> dict[str, Any]:
        """An invoice of the subscription's current period.

        The current API names the subscription in
        `parent.subscription_details.subscription`; `legacy_shape` gives the
        shape before 2025-03-31, with a top-level `subscription` and no parent.
        """
        with self._lock:
            subscription = self._subscription(subscription_id)
            item = subscription["items"]["data"][0]
            price = item["price"]
            amount = price["unit_amount"] * item["quantity"]
            invoice = self._copy("invoice")
            invoice_id = f"in_{_random(24)}"
            invoice.update(
                id=invoice_id,
                created=self.now(),
                customer=subscription["customer"],
                currency=price["currency"],
                billing_reason="subscription_cycle",
                status="paid" if paid else "open",
                amount_due=amount,
                amount_paid=amount if paid else 0,
                amount_remaining=0 if paid else amount,
                amount_overpaid=0,
                subtotal=amount,
                subtotal_excluding_tax=amount,
                total=amount,
                total_excluding_tax=amount,
                period_start=item["current_period_start"],
                period_end=item["current_period_end"],
                last_finalization_error=None,
                from_invoice=None,
                shipping_cost=None,
            )
            line = invoice["lines"]["data"][0]
            line.update(
                id=f"il_{_random(24)}",
                invoice=invoice_id,
                amount=amount,
                currency=price["currency"],
                description=f"{item['quantity']} x subscription",
                period={
                    "start": item["current_period_start"],
                    "end": item["current_period_end"],
                },
                quantity=item["quantity"],
                subtotal=amount,
            )
            invoice["lines"]["url"] = f"/v1/invoices/{invoice_id}/lines"
            if legacy_shape:
                invoice["subscription"] = subscription_id
                del invoice["parent"]
                line["subscription"] = subscription_id
                del line["parent"]
            else:
                del invoice["subscription"]
                del line["subscription"]
                invoice["parent"] = {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {
                        "subscription": subscription_id,
                        "metadata": copy.deepcopy(subscription["metadata"]),
                    },
                }
                line["parent"] = {
                    "type": "subscription_item_details",
                    "invoice_item_details": None,
                    "subscription_item_details": {
                        "invoice_item": None,
                        "proration": False,
                        "proration_details": {"credited_items": None},
                        "subscription": subscription_id,
                        "subscription_item": item["id"],
                    },
                }
            self._state.invoices[invoice_id] = invoice
            subscription["latest_invoice"] = invoice_id
            return copy.deepcopy(invoice)

    def fail_next(
        self, count: int = 1, *, status: int = 500, path: str | None = None
    ) -> None:
        """Answer the next `count` requests with `status`: an `api_error` for
        5xx, a `rate_limit` for 429. The SDK retries 5xx on its own. With
        `path`, only requests to that path count; others are served."""
        with self._lock:
            self._failures.extend([(status, path)] * count)

    def drop_next(self, count: int = 1) -> None:
        """Close the connection of the next `count` requests without answering."""
        with self._lock:
            self._failures.extend([(None, None)] * count)

    # -- webhooks ------------------------------------------------------------

    def event(
        self,
        event_type: str,
        object_id: str,
        *,
        previous_attributes: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An event (`object: event`) carrying the object's current state."""
        with self._lock:
            subject = copy.deepcopy(self._find(object_id))
        event = self._copy("event")
        data: dict[str, Any] = {"object": subject}
        if previous_attributes is not None:
            data["previous_attributes"] = dict(previous_attributes)
        event.update(
            id=f"evt_{_random(24)}",
            type=event_type,
            created=self.now(),
            api_version=API_VERSION,
            data=data,
            pending_webhooks=1,
        )
        return event

    @staticmethod
    def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
        """The `Stripe-Signature` header Stripe sends with `payload`:
        `t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed by the secret>`."""
        signed_at = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(
            secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256
        )
        return f"t={signed_at},v1={mac.hexdigest()}"

    def signed_event(
        self,
        event_type: str,
        object_id: str,
        secret: str,
        *,
        timestamp: int | None = None,
        previous_attributes: Mapping[str, Any] | None = None,
    ) -> SignedEvent:
        """A webhook delivery of a new event about `object_id`, signed at
        `timestamp` (default now; older than five minutes is stale)."""
        event = self.event(
            event_type, object_id, previous_attributes=previous_attributes
        )
        payload = json.dumps(event, indent=2).encode()
        return SignedEvent(
            event, payload, self.sign(payload, secret, timestamp=timestamp)
        )

    # -- HTTP ----------------------------------------------------------------

    def _handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: str,
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Answer one request: status, JSON body and extra headers, or None to
        drop the connection.

        Like Stripe, an idempotent answer is kept only once the endpoint ran
        (a success or a declined card), not for a refused request.
        """
        split = urlsplit(target)
        path = split.path
        key = headers.get("idempotency-key")
        with self._lock:
            try:
                params = decode_form(parse_qsl(split.query) + parse_qsl(body))
            except _ApiError as error:
                self._record(method, path, key, {}, error.status, "error")
                return error.status, error.body, {}
            due = next(
                (
                    index
                    for index, (_, only) in enumerate(self._failures)
                    if only is None or only == path
                ),
                None,
            )
            if due is not None:
                failure, _ = self._failures.pop(due)
                outcome = "dropped" if failure is None else "failed"
                self._record(method, path, key, params, failure, outcome)
                if failure is None:
                    return None
                return failure, _injected(failure).body, {}
            if method == "POST" and key and key in self._state.idempotent:
                return self._replay(method, path, key, params)
            status, answer = self._dispatch(method, path, headers, params)
            outcome = "ok" if status < 400 else "error"
            self._record(method, path, key, params, status, outcome)
            if method == "POST" and key and (status < 400 or status == 402):
                self._state.idempotent[key] = _Stored(
                    method, path, params, status, copy.deepcopy(answer)
                )
            extra = {"idempotency-key": key} if key else {}
            return status, answer, extra

    def _replay(
        self, method: str, path: str, key: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        stored = self._state.idempotent[key]
        if (stored.method, stored.path, stored.params) != (method, path, params):
            error = _ApiError(
                400,
                "Keys for idempotent requests can only be used with the same "
                f"parameters they were first used with. Try using a key other "
                f"than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
            self._record(method, path, key, params, 400, "error")
            return 400, error.body, {}
        self._record(method, path, key, params, stored.status, "replayed")
        headers = {"idempotency-key": key, "idempotent-replayed": "true"}
        return stored.status, copy.deepcopy(stored.body), headers

    def _record(
        self,
        method: str,
        path: str,
        key: str | None,
        params: dict[str, Any],
        status: int | None,
        outcome: str,
    ) -> None:
        self.requests.append(
            RecordedRequest(method, path, key, copy.deepcopy(params), status, outcome)
        )

    def _dispatch(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        params: dict[str, Any],
    ) -> tuple[int, dict[str, Any]]:
        try:
            if not headers.get("authorization", "").startswith("Bearer sk_"):
                raise _ApiError(
                    401,
                    "You did not provide an API key. You need to provide your API "
                    "key in the Authorization header, using Bearer auth.",
                )
            for route_method, pattern, name in _ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    self._check_params(name, params)
                    handler: Callable[..., dict[str, Any]] = getattr(self, f"_{name}")
                    answer = handler(params, **match.groupdict())
                    return 200, self._expand(answer, params.get("expand") or [])
            raise _ApiError(
                404,
                f"Unrecognized request URL ({method}: {path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        except _ApiError as error:
            return error.status, error.body

    @staticmethod
    def _check_params(name: str, params: Mapping[str, Any]) -> None:
        allowed = _ALLOWED_PARAMS.get(name, frozenset()) | _COMMON_PARAMS
        for param in params:
            if param not in allowed:
                raise _ApiError(
                    400,
                    f"Received unknown parameter: {param}",
                    code="parameter_unknown",
                    param=param,
                )

    def _expand(self, answer: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        expanded = copy.deepcopy(answer)
        for path in paths:
            *parents, last = path.split(".")
            node: Any = expanded
            for name in parents:
                node = node.get(name) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get(last), str):
                try:
                    node[last] = copy.deepcopy(self._find(node[last]))
                except KeyError:
                    raise _ApiError(
                        400,
                        f"This property cannot be expanded ({path}).",
                        param="expand",
                    ) from None
        return expanded

    # -- endpoints -----------------------------------------------------------

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = self._copy("customer")
        customer.update(
            id=f"cus_{_random(14)}",
            created=self.now(),
            email=params.get("email"),
            name=params.get("name"),
            description=params.get("description"),
            phone=params.get("phone"),
            metadata=dict(params.get("metadata") or {}),
            discount=None,
        )
        self._state.customers[customer["id"]] = customer
        if "invoice_settings" in params:
            self._set_invoice_settings(customer, params["invoice_settings"])
        return customer

    def _get_customer(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        customer = self._state.customers.get(id)
        if customer is None:
            raise _missing("customer", id)
        return customer

    def _update_customer(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        customer = self._live_customer(id)
        for name in ("email", "name", "description", "phone"):
            if name in params:
                customer[name] = params[name] or None
        if "metadata" in params:
            customer["metadata"] = _merge_metadata(customer["metadata"], params)
        if "invoice_settings" in params:
            self._set_invoice_settings(customer, params["invoice_settings"])
        return customer

    def _delete_customer(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        self._live_customer(id)
        stub = self._copy("deleted_customer")
        stub["id"] = id
        self._state.customers[id] = stub
        for method in self._state.payment_methods.values():
            if method["customer"] == id:
                method["customer"] = None
        return stub

    def _list_customer_payment_methods(
        self,
        params: dict[str, Any],
        id: str,
    ) -> dict[str, Any]:
        self._live_customer(id)
        kind = params.get("type")
        limit = int(params.get("limit") or 10)
        if not 1 <= limit <= 100:
            raise _ApiError(
                400, "Invalid limit: must be between 1 and 100", param="limit"
            )
        newest_first = [
            self._state.payment_methods[pm_id]
            for pm_id in reversed(self._state.attach_order)
            if self._state.payment_methods[pm_id]["customer"] == id
            and (kind is None or self._state.payment_methods[pm_id]["type"] == kind)
        ]
        after = params.get("starting_after")
        if after:
            ids = [method["id"] for method in newest_first]
            if after not in ids:
                raise _missing("payment_method", after, "starting_after")
            newest_first = newest_first[ids.index(after) + 1 :]
        return {
            "object": "list",
            "data": newest_first[:limit],
            "has_more": len(newest_first) > limit,
            "url": f"/v1/customers/{id}/payment_methods",
        }

    def _get_payment_method(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        method = self._state.payment_methods.get(id)
        if method is None:
            raise _missing("PaymentMethod", id)
        return method

    def _attach_payment_method(
        self,
        params: dict[str, Any],
        id: str,
    ) -> dict[str, Any]:
        customer_id = params.get("customer")
        if not customer_id:
            raise _ApiError(400, "Missing required param: customer.", param="customer")
        customer = self._state.customers.get(customer_id)
        if customer is None or customer.get("deleted"):
            raise _missing("customer", customer_id, "customer")
        if id in TEST_CARDS or id in DECLINED_CARDS:
            return self._new_card(id, customer_id)
        method = self._state.payment_methods.get(id)
        if method is None:
            raise _missing("PaymentMethod", id, "payment_method")
        if method["customer"] not in (None, customer_id):
            raise _ApiError(
                400,
                "The payment method you provided has already been attached to a "
                "customer.",
                code="payment_method_unexpected_state",
            )
        method["customer"] = customer_id
        return method

    def _detach_payment_method(
        self,
        params: dict[str, Any],
        id: str,
    ) -> dict[str, Any]:
        method = self._get_payment_method(params, id)
        if method["customer"] is None:
            raise _ApiError(
                400,
                "The payment method you provided is not attached to a customer so "
                "detachment is impossible.",
                code="payment_method_unexpected_state",
            )
        customer = self._state.customers[method["customer"]]
        settings = customer["invoice_settings"]
        if settings["default_payment_method"] == id:
            settings["default_payment_method"] = None
        method["customer"] = None
        return method

    def _create_setup_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        customer_id = params.get("customer")
        if customer_id is not None:
            self._live_customer(customer_id, param="customer")
        intent = self._copy("setup_intent")
        intent_id = f"seti_{_random(24)}"
        intent.update(
            id=intent_id,
            client_secret=f"{intent_id}_secret_{_random(32)}",
            created=self.now(),
            customer=customer_id,
            usage=params.get("usage") or "off_session",
            payment_method_types=params.get("allowed_payment_method_types")
            or params.get("payment_method_types")
            or ["card"],
            metadata=dict(params.get("metadata") or {}),
            last_setup_error=None,
            next_action=None,
            status="requires_payment_method",
        )
        self._state.setup_intents[intent_id] = intent
        return intent

    def _get_setup_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        intent = self._state.setup_intents.get(id)
        if intent is None:
            raise _missing("setup_intent", id)
        return intent

    def _create_checkout_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") == "payment":
            return self._create_payment_session(params)
        if params.get("mode") != "subscription":
            raise _ApiError(
                400,
                "The fake Stripe server supports checkout sessions in "
                "mode=subscription and mode=payment only.",
                param="mode",
            )
        for name in ("success_url", "customer"):
            if not params.get(name):
                raise _ApiError(400, f"Missing required param: {name}.", param=name)
        customer = self._live_customer(params["customer"], param="customer")
        items = params.get("line_items") or []
        if len(items) != 1:
            raise _ApiError(
                400,
                "The fake takes exactly one line item in subscription mode.",
                param="line_items",
            )
        price_id = items[0].get("price")
        price = self._state.prices.get(price_id or "")
        if price is None:
            raise _missing("price", str(price_id), "line_items[0][price]")
        quantity = int(items[0].get("quantity") or 1)
        data = params.get("subscription_data") or {}
        trial_days = int(data.get("trial_period_days") or 0)
        behavior = (data.get("trial_settings") or {}).get("end_behavior") or {}
        session = self._copy("checkout.session")
        session_id = f"cs_test_{_random(58)}"
        created = self.now()
        session.update(
            id=session_id,
            created=created,
            expires_at=created + DAY,
            mode="subscription",
            status="open",
            payment_status="unpaid",
            customer=customer["id"],
            customer_email=None,
            customer_details=None,
            client_reference_id=params.get("client_reference_id"),
            metadata=dict(params.get("metadata") or {}),
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url"),
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            currency=price["currency"],
            amount_subtotal=price["unit_amount"] * quantity,
            amount_total=price["unit_amount"] * quantity,
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            payment_intent=None,
            subscription=None,
            invoice=None,
            after_expiration=None,
            shipping_address_collection=None,
            shipping_cost=None,
            currency_conversion=None,
            collected_information=None,
            payment_method_collection=params.get("payment_method_collection")
            or "always",
        )
        self._state.sessions[session_id] = session
        self._state.session_orders[session_id] = {
            "price": price_id,
            "quantity": quantity,
            "metadata": dict(data.get("metadata") or {}),
            "trial_days": trial_days,
            "missing_payment_method": behavior.get("missing_payment_method"),
        }
        return session

    def _get_checkout_session(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        session = self._state.sessions.get(id)
        if session is None:
            raise _missing("checkout.session", id)
        return session

    def _create_payment_session(self, params: dict[str, Any]) -> dict[str, Any]:
        """A one-time payment: one line item priced inline with `price_data`."""
        if not params.get("success_url"):
            raise _ApiError(
                400, "Missing required param: success_url.", param="success_url"
            )
        if params.get("customer"):
            self._live_customer(params["customer"], param="customer")
        items = params.get("line_items") or []
        if not isinstance(items, list) or len(items) != 1:
            raise _ApiError(
                400,
                "The fake takes exactly one line item in payment mode.",
                param="line_items",
            )
        name, unit_amount, currency, quantity = self._inline_item(items[0])
        amount = unit_amount * quantity
        minimum = MINIMUM_CHARGE.get(currency, 50)
        if amount < minimum:
            raise _ApiError(
                400,
                "The Checkout Session's total amount due must add up to at least "
                f"{minimum} {currency} (in the currency's minor unit).",
                code="amount_too_small",
                param="line_items",
            )
        created = self.now()
        expires_at = self._expires_at(params.get("expires_at"), created)
        session = self._copy("checkout.session")
        session_id = f"cs_test_{_random(58)}"
        session.update(
            id=session_id,
            created=created,
            expires_at=expires_at,
            mode="payment",
            status="open",
            payment_status="unpaid",
            customer=params.get("customer"),
            customer_creation=None if params.get("customer") else "if_required",
            customer_email=params.get("customer_email"),
            customer_details=None,
            client_reference_id=params.get("client_reference_id"),
            metadata=dict(params.get("metadata") or {}),
            success_url=params["success_url"],
            cancel_url=params.get("cancel_url"),
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            currency=currency,
            amount_subtotal=amount,
            amount_total=amount,
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            payment_intent=None,
            subscription=None,
            invoice=None,
            after_expiration=None,
            shipping_address_collection=None,
            shipping_cost=None,
            currency_conversion=None,
            collected_information=None,
            payment_method_collection=None,
        )
        self._state.sessions[session_id] = session
        intent_data = params.get("payment_intent_data") or {}
        self._state.session_orders[session_id] = {
            "name": name,
            "quantity": quantity,
            "payment_intent_metadata": dict(intent_data.get("metadata") or {}),
        }
        return session

    @staticmethod
    def _inline_item(item: Any) -> tuple[str, int, str, int]:
        """Name, unit amount, currency and quantity of a `price_data` line item."""
        prefix = "line_items[0]"
        if not isinstance(item, dict):
            raise _ApiError(400, f"Invalid object: {prefix}.", param=prefix)
        if "price" in item:
            raise _ApiError(
                400,
                "The fake prices payment-mode line items inline only; use "
                f"{prefix}[price_data].",
                param=f"{prefix}[price]",
            )
        data = item.get("price_data")
        if not isinstance(data, dict):
            raise _ApiError(
                400,
                f"Missing required param: {prefix}[price_data].",
                param=f"{prefix}[price_data]",
            )
        product = data.get("product_data")
        fields = {
            "currency": data.get("currency"),
            "unit_amount": data.get("unit_amount"),
            "product_data][name": product.get("name")
            if isinstance(product, dict)
            else None,
        }
        for key, value in fields.items():
            if not value:
                param = f"{prefix}[price_data][{key}]"
                raise _ApiError(400, f"Missing required param: {param}.", param=param)
        unit_amount = _integer(
            fields["unit_amount"], f"{prefix}[price_data][unit_amount]"
        )
        if "quantity" not in item:
            raise _ApiError(
                400,
                f"Missing required param: {prefix}[quantity].",
                param=f"{prefix}[quantity]",
            )
        quantity = _integer(item["quantity"], f"{prefix}[quantity]")
        if quantity < 1:
            raise _ApiError(
                400, "Invalid positive integer", param=f"{prefix}[quantity]"
            )
        currency = str(fields["currency"])
        if currency != currency.lower() or len(currency) != 3:
            raise _ApiError(
                400,
                f"Invalid currency: {currency}.",
                param=f"{prefix}[price_data][currency]",
            )
        return str(fields["product_data][name"]), unit_amount, currency, quantity

    def _expires_at(self, value: Any, created: int) -> int:
        """Stripe takes an expiry from 30 minutes to 24 hours after creation."""
        if value is None:
            return created + DAY
        at = _integer(value, "expires_at")
        if at < created + 30 * 60:
            raise _ApiError(
                400,
                "The `expires_at` timestamp must be at least 30 minutes from "
                "Checkout Session creation.",
                param="expires_at",
            )
        if at > created + DAY:
            raise _ApiError(
                400,
                "The `expires_at` timestamp must be less than 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        return at

    def _expire_checkout_session(
        self, params: dict[str, Any], id: str
    ) -> dict[str, Any]:
        session = self._get_checkout_session(params, id)
        if session["status"] != "open":
            raise _ApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
            )
        session.update(status="expired", url=None)
        return session

    def _get_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        intent = self._state.payment_intents.get(id)
        if intent is None:
            raise _missing("payment_intent", id)
        return intent

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        """A refund of a succeeded PaymentIntent, in full unless `amount` says less.

        As Stripe does, a refund beyond what is left is refused, and one of a
        fully refunded payment is `charge_already_refunded`.
        """
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise _ApiError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
                param="payment_intent",
            )
        intent = self._state.payment_intents.get(intent_id)
        if intent is None:
            raise _missing("payment_intent", intent_id, "payment_intent")
        charge = f"ch_{intent['id'][3:]}"
        if intent["status"] != "succeeded":
            raise _ApiError(
                400,
                f"This PaymentIntent ({intent_id}) does not have a successful "
                "charge to refund.",
                code="charge_not_refundable",
            )
        refunded = sum(
            r["amount"] for r in self._state.refunds.values() if r["charge"] == charge
        )
        left = intent["amount_received"] - refunded
        if left <= 0:
            raise _ApiError(
                400,
                f"Charge {charge} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _integer(params.get("amount") or left, "amount")
        if not 0 < amount <= left:
            raise _ApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on "
                f"charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        refund = self._copy("refund")
        refund.update(
            id=f"re_{_random(24)}",
            amount=amount,
            charge=charge,
            created=self.now(),
            currency=intent["currency"],
            metadata=dict(params.get("metadata") or {}),
            payment_intent=intent_id,
            reason=params.get("reason"),
            status="succeeded",
        )
        self._state.refunds[refund["id"]] = refund
        return refund

    def refunds_of(self, session_id: str) -> list[dict[str, Any]]:
        """The refunds of what a payment-mode session collected."""
        with self._lock:
            intent = self._state.sessions[session_id].get("payment_intent")
            return [
                copy.deepcopy(r)
                for r in self._state.refunds.values()
                if intent and r["payment_intent"] == intent
            ]

    def _get_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self._subscription(id)

    def _list_subscriptions(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first; without `status`, every one that is not canceled."""
        status = params.get("status")
        known = ("active", "all", "canceled", "ended", "incomplete")
        known += ("incomplete_expired", "past_due", "paused", "trialing", "unpaid")
        if status is not None and status not in known:
            raise _ApiError(400, f"Invalid status: {status}", param="status")
        limit = _integer(params.get("limit") or 10, "limit")
        if not 1 <= limit <= 100:
            raise _ApiError(
                400, "Invalid limit: must be between 1 and 100", param="limit"
            )

        def matches(subscription: dict[str, Any]) -> bool:
            current = subscription["status"]
            if status is None:
                return current != "canceled"
            if status == "ended":
                return current in ("canceled", "incomplete_expired")
            return status in ("all", current)

        newest_first = [
            s
            for s in reversed(self._state.subscriptions.values())
            if matches(s)
            and params.get("customer") in (None, s["customer"])
            and params.get("price")
            in (None, *(i["price"]["id"] for i in s["items"]["data"]))
        ]
        after = params.get("starting_after")
        if after:
            ids = [s["id"] for s in newest_first]
            if after not in ids:
                raise _missing("subscription", after, "starting_after")
            newest_first = newest_first[ids.index(after) + 1 :]
        return {
            "object": "list",
            "data": newest_first[:limit],
            "has_more": len(newest_first) > limit,
            "url": "/v1/subscriptions",
        }

    def _update_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        subscription = self._live_subscription(id)
        if "cancel_at_period_end" in params:
            self._schedule_cancel(
                subscription,
                _boolean(params["cancel_at_period_end"], "cancel_at_period_end"),
            )
        behavior = params.get("proration_behavior", "create_prorations")
        if behavior not in ("create_prorations", "none", "always_invoice"):
            raise _ApiError(
                400,
                f"Invalid proration_behavior: {behavior}",
                param="proration_behavior",
            )
        for index, change in enumerate(params.get("items") or []):
            self._change_item(subscription, index, change)
        if "metadata" in params:
            subscription["metadata"] = _merge_metadata(subscription["metadata"], params)
        if "default_payment_method" in params:
            subscription["default_payment_method"] = (
                params["default_payment_method"] or None
            )
        return subscription

    def _cancel_subscription(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        subscription = self._live_subscription(id)
        now = self.now()
        subscription.update(
            status="canceled",
            canceled_at=now,
            ended_at=now,
            cancel_at=None,
            cancel_at_period_end=False,
            cancellation_details={
                "comment": None,
                "feedback": None,
                "reason": "cancellation_requested",
            },
        )
        return subscription

    def _get_invoice(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        invoice = self._state.invoices.get(id)
        if invoice is None:
            raise _missing("invoice", id)
        return invoice

    # -- objects -------------------------------------------------------------

    def _copy(self, resource: str) -> dict[str, Any]:
        fixture: dict[str, Any] = copy.deepcopy(self._fixtures[resource])
        return fixture

    def _find(self, object_id: str) -> dict[str, Any]:
        for store in (
            self._state.customers,
            self._state.payment_methods,
            self._state.setup_intents,
            self._state.sessions,
            self._state.payment_intents,
            self._state.subscriptions,
            self._state.invoices,
            self._state.prices,
        ):
            if object_id in store:
                return store[object_id]
        raise KeyError(f"the fake has no object {object_id!r}")

    def _live_customer(self, customer_id: str, *, param: str = "id") -> dict[str, Any]:
        customer = self._state.customers.get(customer_id)
        if customer is None or customer.get("deleted"):
            raise _missing("customer", customer_id, param)
        return customer

    def _subscription(self, subscription_id: str) -> dict[str, Any]:
        subscription = self._state.subscriptions.get(subscription_id)
        if subscription is None:
            raise _missing("subscription", subscription_id)
        return subscription

    def _live_subscription(self, subscription_id: str) -> dict[str, Any]:
        """Stripe answers changes to a canceled subscription as if it were gone."""
        subscription = self._subscription(subscription_id)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise _missing("subscription", subscription_id)
        return subscription

    def _set_invoice_settings(
        self, customer: dict[str, Any], settings: Mapping[str, Any]
    ) -> None:
        if "default_payment_method" not in settings:
            return
        method_id = settings["default_payment_method"] or None
        if method_id is not None:
            method = self._state.payment_methods.get(method_id)
            if method is None or method["customer"] != customer["id"]:
                raise _ApiError(
                    400,
                    f"The customer does not have a payment method with the ID "
                    f"{method_id}. The payment method must be attached to the "
                    "customer.",
                    code="resource_missing",
                    param="invoice_settings[default_payment_method]",
                )
        customer["invoice_settings"]["default_payment_method"] = method_id

    def _new_card(self, token: str, customer_id: str) -> dict[str, Any]:
        if token in DECLINED_CARDS:
            code, decline_code = DECLINED_CARDS[token]
            raise _ApiError(
                402,
                "Your card was declined.",
                type="card_error",
                code=code,
                decline_code=decline_code,
                param="cvc" if code == "incorrect_cvc" else "",
            )
        if token not in TEST_CARDS:
            raise _missing("PaymentMethod", token, "payment_method")
        brand, last4, funding = TEST_CARDS[token]
        method = self._copy("payment_method")
        created = self.now()
        method.update(
            id=f"pm_{_random(24)}",
            created=created,
            customer=customer_id,
            metadata={},
            allow_redisplay="unspecified",
            billing_details={
                "address": dict.fromkeys(
                    ("city", "country", "line1", "line2", "postal_code", "state")
                ),
                "email": None,
                "name": None,
                "phone": None,
                "tax_id": None,
            },
        )
        method["card"].update(
            brand=brand,
            display_brand=brand,
            last4=last4,
            funding=funding,
            exp_month=12,
            exp_year=datetime.fromtimestamp(created, UTC).year + 3,
            fingerprint=hashlib.sha256(token.encode()).hexdigest()[:16],
            networks={"available": [brand], "preferred": None},
            generated_from=None,
            wallet=None,
        )
        self._state.payment_methods[method["id"]] = method
        self._state.attach_order.append(method["id"])
        return method

    def _new_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        quantity: int,
        metadata: dict[str, Any],
        trial_days: int,
        missing_payment_method: str | None,
        default_payment_method: str | None,
    ) -> dict[str, Any]:
        price = self._state.prices[price_id]
        now = self.now()
        trial_end = now + trial_days * DAY if trial_days else None
        months = 12 if price["recurring"]["interval"] == "year" else 1
        period_end = trial_end or _add_months(now, months)
        subscription = self._copy("subscription")
        subscription_id = f"sub_{_random(24)}"
        item = self._copy("subscription_item")
        item.update(
            id=f"si_{_random(14)}",
            created=now,
            subscription=subscription_id,
            price=copy.deepcopy(price),
            plan=self._plan(price),
            quantity=quantity,
            current_period_start=now,
            current_period_end=period_end,
            billing_thresholds=None,
        )
        subscription.update(
            id=subscription_id,
            customer=customer_id,
            status="trialing" if trial_end else "active",
            created=now,
            start_date=now,
            billing_cycle_anchor=period_end if trial_end else now,
            billing_cycle_anchor_config=None,
            cancel_at=None,
            canceled_at=None,
            cancel_at_period_end=False,
            ended_at=None,
            currency=price["currency"],
            default_payment_method=default_payment_method,
            metadata=dict(metadata),
            trial_start=now if trial_end else None,
            trial_end=trial_end,
            trial_settings={
                "end_behavior": {
                    "missing_payment_method": missing_payment_method or "create_invoice"
                }
            },
            items={
                "object": "list",
                "data": [item],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            latest_invoice=None,
            next_pending_invoice_item_invoice=None,
            pause_collection=None,
            pending_invoice_item_interval=None,
            pending_update=None,
            transfer_data=None,
            billing_thresholds=None,
            billing_schedules=[],
        )
        self._state.subscriptions[subscription_id] = subscription
        return subscription

    def _plan(self, price: Mapping[str, Any]) -> dict[str, Any]:
        """The legacy `plan` twin Stripe still sends beside an item's price."""
        plan = self._copy("plan")
        plan.update(
            id=price["id"],
            created=price["created"],
            amount=price["unit_amount"],
            amount_decimal=str(price["unit_amount"]),
            currency=price["currency"],
            interval=price["recurring"]["interval"],
            interval_count=1,
            product=price["product"],
            transform_usage=None,
        )
        return plan

    def _change_item(
        self, subscription: dict[str, Any], index: int, change: Mapping[str, Any]
    ) -> None:
        items = subscription["items"]["data"]
        item = next((i for i in items if i["id"] == change.get("id")), None)
        if item is None:
            raise _ApiError(
                400,
                f"Invalid subscription item: {change.get('id')}",
                param=f"items[{index}][id]",
            )
        if "price" in change:
            price = self._state.prices.get(change["price"])
            if price is None:
                raise _missing("price", str(change["price"]), f"items[{index}][price]")
            interval_changed = (
                price["recurring"]["interval"] != item["price"]["recurring"]["interval"]
            )
            item.update(price=copy.deepcopy(price), plan=self._plan(price))
            if interval_changed and subscription["status"] != "trialing":
                now = self.now()
                months = 12 if price["recurring"]["interval"] == "year" else 1
                item.update(
                    current_period_start=now,
                    current_period_end=_add_months(now, months),
                )
                subscription["billing_cycle_anchor"] = now
        if "quantity" in change:
            item["quantity"] = int(change["quantity"])

    def _schedule_cancel(self, subscription: dict[str, Any], cancel: bool) -> None:
        item = subscription["items"]["data"][0]
        subscription.update(
            cancel_at_period_end=cancel,
            cancel_at=item["current_period_end"] if cancel else None,
            canceled_at=self.now() if cancel else None,
        )


def _integer(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _ApiError(400, f"Invalid integer: {value}", param=param) from None


def _boolean(value: Any, param: str) -> bool:
    if value in ("true", "false"):
        return bool(value == "true")
    raise _ApiError(400, f"Invalid boolean: {value}", param=param)


def _merge_metadata(
    current: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    """Stripe merges metadata keys; an empty value removes a key."""
    merged = dict(current)
    for key, value in (params.get("metadata") or {}).items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to the FakeStripe behind the server."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeStripe/1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake records requests in `FakeStripe.requests` instead."""

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake: FakeStripe = self.server.fake  # type: ignore[attr-defined]
        answer = fake._handle(method, self.path, headers, body)
        if answer is None:
            self.close_connection = True
            return
        status, payload, extra = answer
        encoded = json.dumps(payload, indent=2).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(encoded)))
        self.send_header("request-id", f"req_{_random(14)}")
        self.send_header("stripe-version", headers.get("stripe-version", API_VERSION))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(encoded)


@pytest.fixture(scope="session")
def stripe_fake_server() -> Iterator[FakeStripe]:
    """One fake Stripe server for the whole test session."""
    fake = FakeStripe()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_fake(stripe_fake_server: FakeStripe) -> FakeStripe:
    """The session's fake Stripe server, emptied for this test (prices stay)."""
    stripe_fake_server.reset()
    return stripe_fake_server
