from __future__ import annotations

import asyncio

from tests.contract.http.conftest import Api, bearer
from tests.support import PASSWORD

NEW_PASSWORD = "violet meadow compass 77"


class TestPasswordReset:
    async def test_reset_request_is_202_whether_or_not_the_account_exists(
        self, api: Api
    ) -> None:
        await api.verified_user()

        known = await api.client.post(
            "/api/v1/auth/password-reset/", json={"email": "ada@example.org"}
        )
        unknown = await api.client.post(
            "/api/v1/auth/password-reset/", json={"email": "nobody@example.org"}
        )

        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        mails = await api.wait_for_mails(2)
        assert [m["To"] for m in mails] == ["ada@example.org", "ada@example.org"]

    async def test_confirm_sets_the_password_and_revokes_every_session(
        self, api: Api
    ) -> None:
        tokens = await api.verified_user()
        await api.client.post(
            "/api/v1/auth/password-reset/", json={"email": "ada@example.org"}
        )
        token = await api.last_link_token("reset-password", count=2)

        confirmed = await api.client.post(
            "/api/v1/auth/password-reset/confirm/",
            json={"token": token, "new_password": NEW_PASSWORD},
        )

        assert confirmed.status_code == 200
        me = await api.client.get("/api/v1/users/me/", headers=bearer(tokens))
        assert me.status_code == 401
        old = await api.client.post(
            "/api/v1/auth/token/",
            json={"email": "ada@example.org", "password": PASSWORD},
        )
        assert old.status_code == 401
        new = await api.client.post(
            "/api/v1/auth/token/",
            json={"email": "ada@example.org", "password": NEW_PASSWORD},
        )
        assert new.status_code == 200

    async def test_confirm_with_a_weak_password_is_400_on_new_password(
        self, api: Api
    ) -> None:
        await api.verified_user()
        await api.client.post(
            "/api/v1/auth/password-reset/", json={"email": "ada@example.org"}
        )
        token = await api.last_link_token("reset-password", count=2)

        response = await api.client.post(
            "/api/v1/auth/password-reset/confirm/",
            json={"token": token, "new_password": "123"},
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "new_password"


class TestPasswordChange:
    async def test_change_revokes_the_other_sessions_only(self, api: Api) -> None:
        mine = await api.verified_user()
        other = await api.login()

        response = await api.client.post(
            "/api/v1/auth/password-change/",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(mine),
        )

        assert response.status_code == 200
        assert (
            await api.client.get("/api/v1/users/me/", headers=bearer(mine))
        ).is_success
        gone = await api.client.get("/api/v1/users/me/", headers=bearer(other))
        assert gone.status_code == 401

    async def test_wrong_current_password_is_400(self, api: Api) -> None:
        mine = await api.verified_user()

        response = await api.client.post(
            "/api/v1/auth/password-change/",
            json={"current_password": "nope nope nope", "new_password": NEW_PASSWORD},
            headers=bearer(mine),
        )

        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "wrong_password"

    async def test_change_needs_a_signed_in_user(self, api: Api) -> None:
        response = await api.client.post(
            "/api/v1/auth/password-change/",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 401


class TestMailRequestLimit:
    async def test_too_many_resets_for_one_address_are_a_429(self, api: Api) -> None:
        await api.verified_user()
        answers = [
            await api.client.post(
                "/api/v1/auth/password-reset/", json={"email": "ada@example.org"}
            )
            for _ in range(5)
        ]

        assert [a.status_code for a in answers] == [202] * 4 + [429]
        refused = answers[-1]
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "throttled"
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        mails = await api.wait_for_mails(5)
        await asyncio.sleep(0.2)
        assert len(api.mails()) == len(mails) == 5
