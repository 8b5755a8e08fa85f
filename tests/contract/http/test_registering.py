"""Registering for events and an attendee's registrations, over HTTP on SQLite."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from platform_core.billing.model import Limit
from tests.contract.http.conftest import Api, bearer
from tests.contract.http.test_events import (
    at,
    complete_body,
    create,
    field_errors,
    organizer,
    publish,
)

PROBLEM = "application/problem+json"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def an_open_event(
    api: Api, tokens: dict[str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    tokens = tokens or await organizer(api)
    event = await create(api, tokens, **complete_body(**fields))
    await publish(api, tokens, event["uuid"])
    event["tokens"] = tokens
    return event


def guest(n: int | str, **fields: Any) -> dict[str, Any]:
    return {
        "email": f"guest{n}@example.org",
        "first_name": "Grace",
        "last_name": f"Hopper {n}",
        **fields,
    }


async def register(
    api: Api,
    event: dict[str, Any],
    body: dict[str, Any],
    *,
    tokens: dict[str, str] | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    response = await api.client.post(
        f"/api/v1/public/events/{event['slug']}/register/",
        json=body,
        headers=bearer(tokens) if tokens else {},
    )
    assert response.status_code == expect, response.text
    found: dict[str, Any] = response.json()
    return found


def mails_to(api: Api, address: str) -> list[EmailMessage]:
    return [m for m in api.mails() if m["To"] == address]


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


async def my_registrations(api: Api, tokens: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get("/api/v1/registrations/", headers=bearer(tokens))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


class TestRegistering:
    async def test_a_guest_gets_a_confirmed_seat_and_a_mail_with_the_calendar(
        self, api: Api
    ) -> None:
        event = await an_open_event(api, capacity=10)

        body = await register(api, event, guest(1))

        assert body["status"] == "confirmed"
        assert body["waitlist_position"] is None
        assert (body["amount"], body["currency"]) == (0, None)
        assert body["event"]["uuid"] == event["uuid"]
        assert body["event"]["slug"] == event["slug"]
        assert body["email"] == "guest1@example.org"
        assert body["checkout_url"] is None
        mails = await api.wait_for_outbox(
            lambda mails: any(m["To"] == "guest1@example.org" for m in mails),
            "a mail to the registrant",
        )
        [mail] = [m for m in mails if m["To"] == "guest1@example.org"]
        assert "(Europe/Paris)" in text_of(mail)
        attachments = list(mail.iter_attachments())
        assert [a.get_content_type() for a in attachments] == ["text/calendar"]
        assert "BEGIN:VCALENDAR" in str(attachments[0].get_content())

    async def test_the_event_may_be_named_by_uuid(self, api: Api) -> None:
        event = await an_open_event(api)

        response = await api.client.post(
            f"/api/v1/public/events/{event['uuid']}/register/", json=guest(1)
        )

        assert response.status_code == 201, response.text

    async def test_a_second_registration_with_the_same_email_reveals_nothing(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        await register(api, event, guest(1, first_name="Secret"))

        problem = await register(
            api,
            event,
            guest(1, email="  GUEST1@Example.org", first_name="Other"),
            expect=409,
        )

        assert problem["code"] == "already_registered"
        assert "Secret" not in str(problem)
        assert "Hopper" not in str(problem)

    async def test_a_guest_must_give_email_and_names(self, api: Api) -> None:
        event = await an_open_event(api)

        response = await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/",
            json={"email": "not-an-email", "first_name": " "},
        )

        assert field_errors(response) == {
            "email": "invalid_email",
            "first_name": "required",
            "last_name": "required",
        }

    async def test_unknown_fields_in_the_body_are_refused(self, api: Api) -> None:
        event = await an_open_event(api)

        response = await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/",
            json=guest(1, status="confirmed"),
        )

        assert response.status_code == 400

    async def test_answers_are_checked_against_the_events_fields(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/custom-fields/",
            json={"label": "Job title", "field_type": "short_text", "required": True},
            headers=bearer(event["tokens"]),
        )
        assert response.status_code == 201, response.text
        field_id = response.json()["uuid"]

        missing = await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/", json=guest(1)
        )
        unknown = await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/",
            json=guest(1, answers={field_id: "Nurse", "nope": "x"}),
        )
        body = await register(api, event, guest(1, answers={field_id: " Nurse "}))

        assert field_errors(missing) == {f"answers.{field_id}": "required"}
        assert field_errors(unknown) == {"answers.nope": "unknown_field"}
        assert body["answers"] == {field_id: "Nurse"}

    async def test_a_signed_in_registrant_registers_with_the_accounts_email(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        tokens = await api.verified_user("attendee@example.org")

        wrong = await api.client.post(
            f"/api/v1/public/events/{event['slug']}/register/",
            json={"email": "other@example.org"},
            headers=bearer(tokens),
        )
        body = await register(api, event, {}, tokens=tokens)

        assert field_errors(wrong) == {"email": "not_account_email"}
        assert body["email"] == "attendee@example.org"
        assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")
        mine = await my_registrations(api, tokens)
        assert [r["uuid"] for r in mine["results"]] == [body["uuid"]]

    async def test_a_guest_who_signs_up_later_sees_the_registration_as_theirs(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        body = await register(api, event, guest("late"))
        await api.wait_for_mails(2)

        tokens = await api.verified_user("guestlate@example.org")

        mine = await my_registrations(api, tokens)
        assert mine["count"] == 1
        assert mine["results"][0]["uuid"] == body["uuid"]
        assert set(mine) == {"count", "page", "page_size", "results"}


class TestPlanCap:
    async def test_past_the_plans_registrations_per_event_it_is_a_403(
        self, api: Api
    ) -> None:
        platform = api.container.platform()
        plan = await platform.billing.get_plan("organizer")
        await platform.billing.upsert_plan(
            None,
            replace(plan, limits={**plan.limits, Limit.REGISTRATIONS_PER_EVENT: 2}),
        )
        event = await an_open_event(api, capacity=1, waitlist_enabled=True)
        await register(api, event, guest(1))
        await register(api, event, guest(2))

        refused = await register(api, event, guest(3), expect=403)
        bulk = await api.client.post(
            f"/api/v1/events/{event['uuid']}/registrations/bulk/",
            json={"registrations": [guest(4)], "ignore_capacity": True},
            headers=bearer(event["tokens"]),
        )

        assert refused["code"] == "quota_exceeded"
        assert (refused["limit_name"], refused["limit"]) == (
            "registrations_per_event",
            2,
        )
        assert bulk.status_code == 200, bulk.text
        assert [r["code"] for r in bulk.json()["results"]] == ["quota_exceeded"]


class TestRegistrationWindow:
    async def test_a_draft_event_is_not_found(self, api: Api) -> None:
        tokens = await organizer(api)
        draft = await create(api, tokens, **complete_body())

        response = await api.client.post(
            f"/api/v1/public/events/{draft['uuid']}/register/", json=guest(1)
        )

        assert response.status_code == 404

    async def test_a_cancelled_event_is_closed_with_the_reason(self, api: Api) -> None:
        event = await an_open_event(api)
        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(event["tokens"])
        )
        assert response.status_code == 200, response.text

        problem = await register(api, event, guest(1), expect=409)

        assert problem["code"] == "registration_closed"
        assert problem["reason"] == "event_cancelled"

    async def test_registration_is_open_only_within_its_window(self, api: Api) -> None:
        soon = await an_open_event(api, registration_opens_at=at(-1))
        open_now = await an_open_event(
            api, soon["tokens"], title="Open", registration_opens_at=ago(days=1)
        )

        closed = await register(api, soon, guest(1), expect=409)
        await register(api, open_now, guest(1))

        assert (closed["code"], closed["reason"]) == (
            "registration_closed",
            "not_yet_open",
        )


class TestWaitlistAndCancelling:
    async def test_a_full_event_waitlists_and_a_cancellation_promotes_once(
        self, api: Api
    ) -> None:
        event = await an_open_event(api, capacity=1, waitlist_enabled=True)
        first_tokens = await api.verified_user("first@example.org")
        first = await register(api, event, {}, tokens=first_tokens)
        second = await register(api, event, guest(2))
        third = await register(api, event, guest(3))
        await api.wait_for_mails(5)

        assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
        assert (third["status"], third["waitlist_position"]) == ("waitlisted", 2)
        waitlist_mail = mails_to(api, "guest2@example.org")[-1]
        assert "position 1" in text_of(waitlist_mail)

        cancelled = await api.client.post(
            f"/api/v1/registrations/{first['uuid']}/cancel/",
            headers=bearer(first_tokens),
        )
        again = await api.client.post(
            f"/api/v1/registrations/{first['uuid']}/cancel/",
            headers=bearer(first_tokens),
        )

        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert again.status_code == 200
        assert again.json()["status"] == "cancelled"
        await api.wait_for_mails(7)
        promoted = [
            m for m in mails_to(api, "guest2@example.org") if "now yours" in text_of(m)
        ]
        assert len(promoted) == 1
        assert not [
            m for m in mails_to(api, "guest3@example.org") if "now yours" in text_of(m)
        ]
        third_now = await api.client.post(
            f"/api/v1/registrations/{third['uuid']}/confirm-payment/"
        )
        assert third_now.json()["waitlist_position"] == 1

    async def test_an_attendee_cannot_cancel_once_the_event_started(
        self, api: Api
    ) -> None:
        started = datetime.now(UTC) - timedelta(hours=1)
        event = await an_open_event(
            api,
            starts_at=started.isoformat(),
            ends_at=(started + timedelta(hours=3)).isoformat(),
        )
        attendee = await api.verified_user("attendee@example.org")
        mine = await register(api, event, {}, tokens=attendee)

        response = await api.client.post(
            f"/api/v1/registrations/{mine['uuid']}/cancel/", headers=bearer(attendee)
        )

        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["code"] == "event_started"
        assert problem["type"] == "urn:platform:problem:event_started"
        assert problem["registration_id"] == mine["uuid"]
        listed = await my_registrations(api, attendee)
        assert [r["status"] for r in listed["results"]] == ["confirmed"]

    async def test_another_persons_registration_is_not_found(self, api: Api) -> None:
        event = await an_open_event(api)
        body = await register(api, event, guest(1))
        await api.wait_for_mails(2)
        stranger = await api.verified_user("stranger@example.org")

        response = await api.client.post(
            f"/api/v1/registrations/{body['uuid']}/cancel/", headers=bearer(stranger)
        )

        assert response.status_code == 404
        assert response.headers["content-type"].startswith(PROBLEM)

    async def test_my_registrations_need_a_sign_in(self, api: Api) -> None:
        response = await api.client.get("/api/v1/registrations/")

        assert response.status_code == 401


class TestPaidEvents:
    async def test_local_payments_confirm_a_paid_registration_at_once(
        self, api: Api
    ) -> None:
        event = await an_open_event(api, price=4_500, currency="EUR")

        body = await register(api, event, guest(1))
        await api.wait_for_mails(2)

        assert body["status"] == "confirmed"
        assert (body["amount"], body["currency"]) == (4_500, "EUR")
        assert body["hold_expires_at"] is None
        again = await api.client.post(
            f"/api/v1/registrations/{body['uuid']}/confirm-payment/"
        )
        assert again.json()["status"] == "confirmed"
        assert not {"email", "first_name", "last_name", "answers"} & set(again.json())
        confirmations = [
            m for m in mails_to(api, "guest1@example.org") if "confirmed" in text_of(m)
        ]
        assert len(confirmations) == 1
        assert "45.00 EUR" in text_of(confirmations[0])


class TestWhatEventsSeeOfRegistrations:
    async def test_an_event_with_registrations_cannot_be_deleted(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        await register(api, event, guest(1))

        response = await api.client.delete(
            f"/api/v1/events/{event['uuid']}/", headers=bearer(event["tokens"])
        )

        assert response.status_code == 409
        assert response.json()["code"] == "event_has_registrations"

    async def test_an_event_people_wait_for_cannot_go_back_to_draft(
        self, api: Api
    ) -> None:
        event = await an_open_event(api, capacity=1, waitlist_enabled=True)
        seated = await register(api, event, guest(1))
        waiting = await register(api, event, guest(2))
        auth = bearer(event["tokens"])
        unpublish = f"/api/v1/events/{event['uuid']}/publish/"

        refused = await api.client.post(
            unpublish, json={"published": False}, headers=auth
        )
        for person in (seated, waiting):
            cancelled = await api.client.post(
                f"/api/v1/events/{event['uuid']}/registrations/{person['uuid']}/cancel/",
                headers=auth,
            )
            assert cancelled.status_code == 200, cancelled.text
        allowed = await api.client.post(
            unpublish, json={"published": False}, headers=auth
        )

        assert refused.status_code == 409, refused.text
        assert (refused.json()["code"], refused.json()["registrations"]) == (
            "event_has_registrations",
            2,
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.json()["status"] == "draft"

    async def test_capacity_cannot_drop_below_the_seats_taken(self, api: Api) -> None:
        event = await an_open_event(api, capacity=5)
        for n in range(3):
            await register(api, event, guest(n))

        lower = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"capacity": 2},
            headers=bearer(event["tokens"]),
        )
        enough = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"capacity": 3},
            headers=bearer(event["tokens"]),
        )

        assert field_errors(lower) == {"capacity": "below_registrations"}
        assert enough.status_code == 200, enough.text
        full = await register(api, event, guest(9), expect=409)
        assert full["code"] == "event_full"

    async def test_raising_the_capacity_seats_the_waitlist_before_newcomers(
        self, api: Api
    ) -> None:
        event = await an_open_event(api, capacity=1, waitlist_enabled=True)
        await register(api, event, guest("a"))
        waiting = await register(api, event, guest("b"))
        await api.wait_for_mails(3)

        raised = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"capacity": 3},
            headers=bearer(event["tokens"]),
        )
        newcomer = await register(api, event, guest("c"))
        last = await register(api, event, guest("d"))

        assert raised.status_code == 200, raised.text
        assert raised.json()["capacity"] == 3
        now = await api.client.post(
            f"/api/v1/registrations/{waiting['uuid']}/confirm-payment/"
        )
        assert (now.json()["status"], now.json()["waitlist_position"]) == (
            "confirmed",
            None,
        )
        assert newcomer["status"] == "confirmed"
        assert (last["status"], last["waitlist_position"]) == ("waitlisted", 1)
        await api.wait_for_mails(6)
        assert any(
            "now yours" in text_of(m) for m in mails_to(api, "guestb@example.org")
        )

    async def test_an_unlimited_capacity_seats_everyone_waiting(self, api: Api) -> None:
        event = await an_open_event(api, capacity=1, waitlist_enabled=True)
        waiting = [await register(api, event, guest(n)) for n in range(3)]

        raised = await api.client.patch(
            f"/api/v1/events/{event['uuid']}/",
            json={"capacity": None},
            headers=bearer(event["tokens"]),
        )

        assert raised.status_code == 200, raised.text
        for body in waiting:
            now = await api.client.post(
                f"/api/v1/registrations/{body['uuid']}/confirm-payment/"
            )
            assert now.json()["status"] == "confirmed"

    async def test_a_field_with_answers_is_archived_instead_of_deleted(
        self, api: Api
    ) -> None:
        event = await an_open_event(api)
        base = f"/api/v1/events/{event['uuid']}/custom-fields/"
        headers = bearer(event["tokens"])
        made = await api.client.post(
            base, json={"label": "Job", "field_type": "short_text"}, headers=headers
        )
        field_id = made.json()["uuid"]
        await register(api, event, guest(1, answers={field_id: "Nurse"}))

        removed = await api.client.delete(f"{base}{field_id}/", headers=headers)
        listed = await api.client.get(
            base, params={"include_archived": "true"}, headers=headers
        )

        assert removed.status_code == 204
        archived = [f for f in listed.json() if f["uuid"] == field_id]
        assert len(archived) == 1
        assert archived[0]["archived_at"] is not None

    async def test_cancelling_the_event_mails_every_registrant(self, api: Api) -> None:
        event = await an_open_event(api, capacity=1, waitlist_enabled=True)
        await register(api, event, guest(1))
        await register(api, event, guest(2))

        response = await api.client.post(
            f"/api/v1/events/{event['uuid']}/cancel/", headers=bearer(event["tokens"])
        )

        assert response.status_code == 200
        told = {"guest1@example.org", "guest2@example.org"}
        mails = await api.wait_for_outbox(
            lambda mails: (
                told
                <= {
                    m["To"] for m in mails if m["Subject"].startswith("Event cancelled")
                }
            ),
            "a cancellation mail to each registrant",
        )
        cancellations = [m for m in mails if m["Subject"].startswith("Event cancelled")]
        assert sorted(m["To"] for m in cancellations) == sorted(told)
