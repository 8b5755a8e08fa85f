from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.persistence.tables import one_time_tokens
from tests.contract.http.conftest import Api
from tests.support import PASSWORD

PROBLEM = "application/problem+json"


class TestSignup:
    async def test_signup_mails_a_verification_link_as_an_eml_file(
        self, api: Api
    ) -> None:
        response = await api.client.post(
            "/api/v1/auth/signup/",
            json={
                "email": " Ada@Example.org ",
                "password": PASSWORD,
                "first_name": "Ada",
                "last_name": "Lovelace",
            },
        )

        assert response.status_code == 201
        assert response.json()["email"] == "ada@example.org"
        [mail] = await api.wait_for_mails(1)
        assert mail["To"] == "ada@example.org"
        text = mail.get_body(preferencelist=("plain",))
        html = mail.get_body(preferencelist=("html",))
        assert text is not None
        assert html is not None
        assert "https://app.test/verify-email?token=" in text.get_content()
        assert "https://app.test/verify-email?token=" in html.get_content()

    async def test_signup_with_a_taken_email_answers_exactly_like_a_new_one(
        self, api: Api
    ) -> None:
        await api.verified_user("ada@example.org")
        new = await api.client.post(
            "/api/v1/auth/signup/",
            json={"email": "bob@example.org", "password": PASSWORD, "full_name": "Bob"},
        )
        taken = await api.client.post(
            "/api/v1/auth/signup/",
            json={"email": "ADA@example.org", "password": PASSWORD, "full_name": "Eve"},
        )

        assert (taken.status_code, taken.json()["detail"]) == (
            new.status_code,
            new.json()["detail"],
        )
        mails = await api.wait_for_mails(3)
        notice = [m for m in mails if m["To"] == "ada@example.org"][-1]
        assert notice["Subject"] == "You already have an account"

    async def test_weak_password_is_a_400_problem_naming_the_rule(
        self, api: Api
    ) -> None:
        response = await api.client.post(
            "/api/v1/auth/signup/",
            json={"email": "ada@example.org", "password": "password", "full_name": "A"},
        )

        assert response.status_code == 400
        assert response.headers["content-type"].startswith(PROBLEM)
        body = response.json()
        assert body["code"] == "validation_error"
        codes = {e["code"] for e in body["errors"]}
        assert {"password_too_short", "password_too_common"} <= codes

    async def test_missing_and_unknown_fields_are_refused(self, api: Api) -> None:
        missing = await api.client.post(
            "/api/v1/auth/signup/", json={"password": PASSWORD, "full_name": "A"}
        )
        unknown = await api.client.post(
            "/api/v1/auth/signup/",
            json={
                "email": "a@example.org",
                "password": PASSWORD,
                "full_name": "A",
                "is_staff": True,
            },
        )

        assert missing.status_code == 400
        assert missing.json()["code"] == "validation_error"
        assert missing.json()["errors"][0] | {"message": ""} == {
            "field": "email",
            "code": "required",
            "message": "",
        }
        assert unknown.status_code == 400
        assert unknown.json()["errors"][0]["code"] == "unknown_field"
        assert unknown.json()["errors"][0]["field"] == "is_staff"

    async def test_malformed_json_and_bad_email_are_400(self, api: Api) -> None:
        garbled = await api.client.post(
            "/api/v1/auth/signup/",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        bad_email = await api.client.post(
            "/api/v1/auth/signup/",
            json={"email": "nope", "password": PASSWORD, "full_name": "A"},
        )

        assert garbled.status_code == 400
        assert bad_email.status_code == 400
        assert bad_email.json()["errors"][0]["field"] == "email"

    async def test_oversized_body_is_refused_with_413(self, api: Api) -> None:
        response = await api.client.post(
            "/api/v1/auth/signup/",
            json={"email": "a@example.org", "password": "p" * 70_000, "full_name": "A"},
        )

        assert response.status_code == 413
        assert response.json()["code"] == "request_too_large"


class TestVerifyEmail:
    async def test_link_verifies_and_returns_tokens(self, api: Api) -> None:
        await api.signup()
        token = await api.last_link_token("verify-email", count=1)

        response = await api.client.post(
            "/api/v1/auth/verify-email/", json={"token": token}
        )

        assert response.status_code == 200
        assert set(response.json()) == {"access", "refresh"}

    async def test_used_and_unknown_tokens_have_distinct_codes(self, api: Api) -> None:
        await api.signup()
        token = await api.last_link_token("verify-email", count=1)
        await api.client.post("/api/v1/auth/verify-email/", json={"token": token})

        used = await api.client.post(
            "/api/v1/auth/verify-email/", json={"token": token}
        )
        unknown = await api.client.post(
            "/api/v1/auth/verify-email/", json={"token": "x" * 43}
        )

        assert (used.status_code, used.json()["code"]) == (400, "token_used")
        assert (unknown.status_code, unknown.json()["code"]) == (400, "token_invalid")

    async def test_expired_link_is_a_400_with_its_own_code(self, api: Api) -> None:
        await api.signup()
        token = await api.last_link_token("verify-email", count=1)
        async with api.container.engine().begin() as connection:
            await connection.execute(
                one_time_tokens.update().values(
                    expires_at=datetime.now(UTC) - timedelta(seconds=1)
                )
            )

        response = await api.client.post(
            "/api/v1/auth/verify-email/", json={"token": token}
        )

        assert (response.status_code, response.json()["code"]) == (400, "token_expired")
