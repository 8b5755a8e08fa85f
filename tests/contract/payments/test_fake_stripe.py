"""The fake Stripe server answers like Stripe's API reference says Stripe does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.fakes.stripe_server import FakeStripe, decode_form

AUTH = {"authorization": "Bearer sk_test_fake"}


@pytest.fixture
async def api(fake: FakeStripe) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.api_base, headers=AUTH) as client:
        yield client


def test_bracketed_forms_decode_to_nested_objects_and_lists() -> None:
    decoded = decode_form(
        [
            ("items[0][id]", "si_1"),
            ("items[0][price]", "price_1"),
            ("items[1][id]", "si_2"),
            ("expand[0]", "subscription"),
            ("metadata[account_id]", "a-1"),
            ("mode", "subscription"),
        ]
    )

    assert decoded == {
        "items": [{"id": "si_1", "price": "price_1"}, {"id": "si_2"}],
        "expand": ["subscription"],
        "metadata": {"account_id": "a-1"},
        "mode": "subscription",
    }


async def test_a_missing_object_is_a_404_resource_missing(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/v1/customers/cus_nobody")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "resource_missing"
    assert error["param"] == "id"
    assert error["message"] == "No such customer: 'cus_nobody'"


async def test_an_unknown_parameter_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/customers", data={"emial": "a@example.org"})

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "emial"
    assert response.json()["error"]["code"] == "parameter_unknown"


async def test_an_unknown_path_is_a_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/charges")

    assert response.status_code == 404
    assert (
        "Unrecognized request URL (GET: /v1/charges)"
        in (response.json()["error"]["message"])
    )


async def test_a_request_without_an_api_key_is_a_401(fake: FakeStripe) -> None:
    async with httpx.AsyncClient(base_url=fake.api_base) as client:
        response = await client.get("/v1/customers/cus_1")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_a_key_reused_with_other_parameters_is_an_idempotency_error(
    api: httpx.AsyncClient, fake: FakeStripe
) -> None:
    first = await api.post(
        "/v1/customers",
        data={"email": "a@example.org"},
        headers={"idempotency-key": "k"},
    )
    replay = await api.post(
        "/v1/customers",
        data={"email": "a@example.org"},
        headers={"idempotency-key": "k"},
    )
    other = await api.post(
        "/v1/customers",
        data={"email": "b@example.org"},
        headers={"idempotency-key": "k"},
    )

    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert [r.outcome for r in fake.requests] == ["ok", "replayed", "error"]


async def test_a_deleted_customer_is_a_deleted_stub(
    api: httpx.AsyncClient, fake: FakeStripe
) -> None:
    created = (await api.post("/v1/customers", data={"name": "Ada"})).json()

    deleted = await api.delete(f"/v1/customers/{created['id']}")
    fetched = await api.get(f"/v1/customers/{created['id']}")

    stub = {"id": created["id"], "object": "customer", "deleted": True}
    assert deleted.json() == stub
    assert fetched.json() == stub


async def test_expand_replaces_an_id_with_the_object(
    api: httpx.AsyncClient, fake: FakeStripe
) -> None:
    fake.add_price("price_fake_month", interval="month")
    session = fake.create_completed_checkout("price_fake_month")

    plain = (await api.get(f"/v1/checkout/sessions/{session['id']}")).json()
    expanded = (
        await api.get(
            f"/v1/checkout/sessions/{session['id']}",
            params={"expand[0]": "subscription"},
        )
    ).json()

    assert plain["subscription"] == session["subscription"]
    assert expanded["subscription"]["id"] == session["subscription"]
    assert expanded["subscription"]["object"] == "subscription"


async def test_objects_keep_the_fixture_shape(fake: FakeStripe) -> None:
    fake.add_price("price_fake_month", interval="month")
    session = fake.create_completed_checkout("price_fake_month", trial_days=5)
    subscription = fake.get(session["subscription"])
    item = subscription["items"]["data"][0]

    assert subscription["object"] == "subscription"
    assert subscription["status"] == "trialing"
    assert "current_period_start" not in subscription
    assert item["current_period_end"] == subscription["trial_end"]
    assert item["price"]["id"] == "price_fake_month"
    assert item["plan"]["interval"] == "month"
    assert session["status"] == "complete"
    assert session["payment_status"] == "no_payment_required"
