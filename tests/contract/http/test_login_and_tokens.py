from __future__ import annotations

import base64
import json

import jwt

from tests.contract.http.conftest import Api, bearer
from tests.support import PASSWORD


def _without_instance(problem: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in problem.items() if k != "instance"}


class TestLogin:
    async def test_verified_user_gets_access_and_refresh(self, api: Api) -> None:
        await api.verified_user()

        tokens = await api.login()

        claims = jwt.decode(tokens["access"], options={"verify_signature": False})
        assert claims["token_type"] == "access"
        assert claims["exp"] - claims["iat"] == 15 * 60
        assert {"iss", "aud", "sid", "sub", "jti"} <= set(claims)

    async def test_unverified_user_is_403_email_not_verified(self, api: Api) -> None:
        await api.signup()

        response = await api.client.post(
            "/api/v1/auth/token/",
            json={"email": "ada@example.org", "password": PASSWORD},
        )

        assert (response.status_code, response.json()["code"]) == (
            403,
            "email_not_verified",
        )

    async def test_wrong_password_and_unknown_email_get_the_same_401(
        self, api: Api
    ) -> None:
        await api.verified_user()

        wrong = await api.client.post(
            "/api/v1/auth/token/",
            json={"email": "ada@example.org", "password": "not my password"},
        )
        unknown = await api.client.post(
            "/api/v1/auth/token/",
            json={"email": "who@example.org", "password": PASSWORD},
        )

        assert wrong.status_code == unknown.status_code == 401
        assert _without_instance(wrong.json()) == _without_instance(unknown.json())

    async def test_repeated_failures_are_429_with_retry_after(self, api: Api) -> None:
        await api.verified_user()
        for _ in range(5):
            response = await api.client.post(
                "/api/v1/auth/token/",
                json={"email": "ada@example.org", "password": "wrong guess"},
            )
            assert response.status_code == 401

        throttled = await api.client.post(
            "/api/v1/auth/token/",
            json={"email": "ada@example.org", "password": PASSWORD},
        )

        assert throttled.status_code == 429
        assert throttled.json()["code"] == "throttled"
        assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60


class TestRefresh:
    async def test_refresh_rotates_and_reuse_ends_the_session(self, api: Api) -> None:
        first = await api.verified_user()

        rotated = await api.client.post(
            "/api/v1/auth/token/refresh/", json={"refresh": first["refresh"]}
        )
        assert rotated.status_code == 200
        second = rotated.json()
        assert second["refresh"] != first["refresh"]

        reused = await api.client.post(
            "/api/v1/auth/token/refresh/", json={"refresh": first["refresh"]}
        )
        assert (reused.status_code, reused.json()["code"]) == (
            401,
            "refresh_token_reused",
        )

        after = await api.client.post(
            "/api/v1/auth/token/refresh/", json={"refresh": second["refresh"]}
        )
        assert after.status_code == 401
        me = await api.client.get("/api/v1/users/me/", headers=bearer(second))
        assert me.status_code == 401

    async def test_access_token_cannot_refresh(self, api: Api) -> None:
        tokens = await api.verified_user()
        response = await api.client.post(
            "/api/v1/auth/token/refresh/", json={"refresh": tokens["access"]}
        )
        assert (response.status_code, response.json()["code"]) == (
            401,
            "token_not_valid",
        )


class TestBearerTokens:
    async def test_refresh_token_is_not_accepted_as_access(self, api: Api) -> None:
        tokens = await api.verified_user()
        response = await api.client.get(
            "/api/v1/users/me/",
            headers={"Authorization": f"Bearer {tokens['refresh']}"},
        )
        assert response.status_code == 401

    async def test_alg_none_token_is_refused(self, api: Api) -> None:
        tokens = await api.verified_user()
        payload = jwt.decode(tokens["access"], options={"verify_signature": False})

        def part(data: dict[str, object]) -> str:
            raw = json.dumps(data).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        forged = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."
        response = await api.client.get(
            "/api/v1/users/me/", headers={"Authorization": f"Bearer {forged}"}
        )
        assert (response.status_code, response.json()["code"]) == (
            401,
            "token_not_valid",
        )

    async def test_missing_token_is_401_not_authenticated(self, api: Api) -> None:
        response = await api.client.get("/api/v1/users/me/")
        assert (response.status_code, response.json()["code"]) == (
            401,
            "not_authenticated",
        )
        assert response.headers["www-authenticate"].startswith("Bearer")
